import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { PlatformContext } from '../types';
import { callDiscord } from './api';
import { ANSWER_COMMAND } from './inbound';

/** Usable in servers the bot is in and in direct messages with it. */
const WHERE = { contexts: [InteractionContextType.Guild, InteractionContextType.BotDM], integration_types: [ApplicationIntegrationType.GuildInstall] };

/**
 * The slash commands the interaction path understands (src/platforms/discord/inbound.ts): the
 * scenario commands, and `/answer` for a free-text answer or a file where plain messages do not
 * reach the bot.
 */
export const SLASH_COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  { name: 'start', description: 'Start the conversation from the beginning', type: ApplicationCommandType.ChatInput, ...WHERE },
  { name: 'help', description: 'Show what the bot can do', type: ApplicationCommandType.ChatInput, ...WHERE },
  { name: 'reset', description: 'Reset the conversation to its beginning', type: ApplicationCommandType.ChatInput, ...WHERE },
  {
    name: ANSWER_COMMAND,
    description: 'Answer the current question',
    type: ApplicationCommandType.ChatInput,
    ...WHERE,
    options: [
      { type: ApplicationCommandOptionType.String, name: 'text', description: 'Your answer', max_length: 4000 },
      { type: ApplicationCommandOptionType.Attachment, name: 'file', description: 'A file to send' },
    ],
  },
];

/** Sets the application's global commands to exactly `SLASH_COMMANDS` (a bulk overwrite: the same list twice changes nothing). */
export async function registerSlashCommands(ctx: PlatformContext, credentials: { application_id: string; bot_token: string }): Promise<void> {
  await callDiscord(ctx, {
    method: 'bulkOverwriteGlobalApplicationCommands',
    path: `/applications/${encodeURIComponent(credentials.application_id)}/commands`,
    httpMethod: 'PUT',
    botToken: credentials.bot_token,
    json: SLASH_COMMANDS,
    secrets: [credentials.bot_token],
  });
}
