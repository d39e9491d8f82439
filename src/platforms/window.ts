/**
 * Meta's 24-hour window (docs/platforms.md, "The 24-hour window"): WhatsApp and Messenger take a
 * free-form message only within 24 hours of the user's last message. Past it WhatsApp takes an
 * approved template message, and Messenger a message with a tag (`HUMAN_AGENT`, a person's reply
 * during a handoff, up to 7 days).
 */
import { z } from 'zod';
import { whatsappTemplateSchema } from '../engine/schema';
import type { OutgoingMessage } from '../engine/types';
import { GraphApiError } from './shared/meta';
import type { PlatformName } from './types';

export const WINDOW_MS = 24 * 3_600_000;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3_600_000;

/** The tags Meta allows for automated messages outside the window. */
export const MESSENGER_TAGS = ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE'] as const;
export type MessengerTag = (typeof MESSENGER_TAGS)[number] | 'HUMAN_AGENT';

/** How a send outside the window goes through; the adapters of WhatsApp and Messenger read it. */
export interface OutsideWindow {
  /** WhatsApp: this template is sent instead of the message. */
  whatsappTemplate?: { name: string; language: string; parameters: string[] };
  /** Messenger: every part goes with `messaging_type: MESSAGE_TAG` and this tag. */
  messengerTag?: MessengerTag;
}

/** The connection settings that let sends outside the window through (`settings` of a WhatsApp or Messenger connection). */
export const windowSettings = {
  /** Its one body parameter is the reply's text. */
  whatsapp_template: whatsappTemplateSchema.omit({ parameters: true }),
  messenger_tag: z.enum(MESSENGER_TAGS),
};

export type WindowedPlatform = Extract<PlatformName, 'whatsapp' | 'messenger'>;

export const hasWindow = (platform: PlatformName): platform is WindowedPlatform => platform === 'whatsapp' || platform === 'messenger';

/** Milliseconds since the user last wrote, when that is past the window; else null (also when unknown). */
export function pastWindow(lastUserMessageAt: string | undefined, now: number): number | null {
  const age = now - (lastUserMessageAt === undefined ? NaN : Date.parse(lastUserMessageAt));
  return age > WINDOW_MS ? age : null;
}

export interface SendPastWindow {
  platform: WindowedPlatform;
  message: OutgoingMessage;
  /** Milliseconds since the user last wrote. */
  age: number;
  /** The dialog is with a person (handoff). */
  handoff: boolean;
  /** The connection's `settings`, as stored (anything an operator wrote). */
  settings: Record<string, unknown>;
}

const PAST = 'The guest last wrote more than 24 hours ago';
const FIX = {
  whatsapp: `WhatsApp takes only an approved template message then; set "whatsapp_template" {"name","language"} in the WhatsApp connection's settings, or "whatsapp_template" on the step`,
  messenger: `Messenger takes only a tagged message then; set "messenger_tag" (${MESSENGER_TAGS.join(', ')}) in the Messenger connection's settings`,
};

/** A setting of `settings`: absent, valid, or why not. */
function setting<T>(settings: Record<string, unknown>, key: keyof typeof windowSettings, schema: z.ZodType<T>): T | { invalid: string } | undefined {
  if (settings[key] === undefined) return undefined;
  const parsed = schema.safeParse(settings[key]);
  return parsed.success ? parsed.data : { invalid: `the connection setting "${key}" is not valid (${parsed.error.issues[0]?.message ?? 'wrong shape'})` };
}

/** How a send past the window goes through, or why it cannot: a sentence that says how to fix it. */
export function throughWindow(send: SendPastWindow): { outside: OutsideWindow } | { skip: string } {
  if (send.platform === 'messenger') {
    if (send.handoff && send.age <= HUMAN_AGENT_WINDOW_MS) return { outside: { messengerTag: 'HUMAN_AGENT' } };
    const tag = setting(send.settings, 'messenger_tag', windowSettings.messenger_tag);
    if (typeof tag === 'string') return { outside: { messengerTag: tag } };
    return { skip: `${PAST}: ${tag ? `${tag.invalid}; ` : ''}${FIX.messenger}.` };
  }
  const own = send.message.whatsapp_template;
  if (own) return { outside: { whatsappTemplate: { name: own.name, language: own.language, parameters: own.parameters ?? [] } } };
  const template = setting(send.settings, 'whatsapp_template', windowSettings.whatsapp_template);
  if (template === undefined || 'invalid' in template) return { skip: `${PAST}: ${template ? `${template.invalid}; ` : ''}${FIX.whatsapp}.` };
  if (!send.message.text) return { skip: `${PAST}, and the reply has no text to fill the connection's template: give the step a "whatsapp_template".` };
  return { outside: { whatsappTemplate: { ...template, parameters: [send.message.text] } } };
}

/**
 * The platform's own refusal of a free-form message past the window (WhatsApp 131047; Messenger
 * 10 / 2018278), as a sentence like `throughWindow`'s; null for any other error.
 */
export function windowRefusal(error: unknown): string | null {
  if (!(error instanceof GraphApiError)) return null;
  const refused = error.platform === 'whatsapp' ? error.code === 131047 : error.code === 10 && error.subcode === 2018278;
  return refused ? `${PAST} (${error.description}): ${FIX[error.platform as WindowedPlatform]}.` : null;
}
