import { discordAdapter } from './discord';
import { messengerAdapter } from './messenger';
import { slackAdapter } from './slack';
import { telegramAdapter } from './telegram';
import { whatsappAdapter } from './whatsapp';
import { PLATFORMS, type PlatformAdapter, type PlatformName } from './types';

export * from './types';
export * from './errors';

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
