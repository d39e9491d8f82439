import { discordAdapter } from './discord';
import { messengerAdapter } from './messenger';
import { slackAdapter } from './slack';
import { telegramAdapter } from './telegram';
import { whatsappAdapter } from './whatsapp';
import { PLATFORMS, type PlatformAdapter, type PlatformName } from './types';

export * from './types';
export * from './errors';

/** Production API bases (CONTRACT.md §1); configuration overrides them with the `*_API_BASE` variables. */
export const DEFAULT_API_BASES: Readonly<Record<PlatformName, string>> = {
  telegram: 'https://api.telegram.org',
  whatsapp: 'https://graph.facebook.com/v21.0',
  messenger: 'https://graph.facebook.com/v21.0',
  slack: 'https://slack.com/api',
  discord: 'https://discord.com/api/v10',
};

export const adapters: Readonly<Record<PlatformName, PlatformAdapter>> = {
  telegram: telegramAdapter,
  whatsapp: whatsappAdapter,
  messenger: messengerAdapter,
  slack: slackAdapter,
  discord: discordAdapter,
};

export function getAdapter(name: PlatformName): PlatformAdapter {
  return adapters[name];
}

export function isPlatformName(value: string): value is PlatformName {
  return (PLATFORMS as readonly string[]).includes(value);
}
