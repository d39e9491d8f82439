import { discordAdapter } from './discord';
import { messengerAdapter } from './messenger';
import { slackAdapter } from './slack';
import { telegramAdapter } from './telegram';
import { whatsappAdapter } from './whatsapp';
import { DIALOG_PLATFORMS, type DialogPlatform, PLATFORMS, type PlatformAdapter, type PlatformName } from './types';

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

export function isDialogPlatform(value: string): value is DialogPlatform {
  return (DIALOG_PLATFORMS as readonly string[]).includes(value);
}
