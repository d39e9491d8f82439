/**
 * Discord payloads (https://discord.com/developers/docs): interactions received over HTTP, the
 * responses to them, messages and components.
 */

export const InteractionType = { Ping: 1, ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 } as const;
export const InteractionResponseType = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  ApplicationCommandAutocompleteResult: 8,
} as const;
export const ComponentType = { ActionRow: 1, Button: 2, StringSelect: 3, TextInput: 4 } as const;
export const ButtonStyle = { Primary: 1, Secondary: 2 } as const;

export interface DiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
  discriminator?: string;
  bot?: boolean;
}

/** The application object (Get/Edit Current Application), the fields we read. */
export interface DiscordApplication {
  id: string;
  name: string;
  interactions_endpoint_url?: string | null;
}

export const CommandOptionType = { String: 3, Attachment: 11 } as const;

export interface DiscordCommandOption {
  name: string;
  type: number;
  /** For an attachment option, the id of the attachment in `data.resolved.attachments`. */
  value?: string | number | boolean;
  options?: DiscordCommandOption[];
}

/** A file on a message or in a command's attachment option; `url` is a signed CDN URL. */
export interface DiscordAttachment {
  id: string;
  filename: string;
  content_type?: string;
  /** Bytes, as Discord declares them. */
  size: number;
  url: string;
  proxy_url?: string;
  description?: string;
}

export interface DiscordButton {
  type: typeof ComponentType.Button;
  style: number;
  label?: string;
  custom_id?: string;
  url?: string;
}

export interface DiscordActionRow {
  type: typeof ComponentType.ActionRow;
  components: DiscordButton[];
}

export interface DiscordInteraction {
  id: string;
  application_id: string;
  type: number;
  token: string;
  version: number;
  guild_id?: string;
  channel_id?: string;
  channel?: { id: string; type?: number };
  member?: { user: DiscordUser; nick?: string | null };
  user?: DiscordUser;
  /** The language of the user's Discord client (`en-US`, `de`). */
  locale?: string;
  data?: {
    id?: string;
    name?: string;
    type?: number;
    options?: DiscordCommandOption[];
    custom_id?: string;
    component_type?: number;
    values?: string[];
    components?: { type: number; components: { type: number; custom_id: string; value?: string }[] }[];
    resolved?: { attachments?: Record<string, DiscordAttachment> };
  };
  message?: { id: string; content?: string; components?: DiscordActionRow[] };
}

export interface DiscordEmbed {
  description?: string;
  image?: { url: string };
}

export interface DiscordCreateMessage {
  content?: string;
  embeds?: DiscordEmbed[];
  components?: DiscordActionRow[];
  allowed_mentions: { parse: never[] };
}

export interface DiscordMessage {
  id: string;
  channel_id: string;
  content: string;
}

export interface DiscordErrorBody {
  message?: string;
  code?: number;
  retry_after?: number;
  global?: boolean;
}
