import { discordButton, discordCommand, discordKeyPair, discordRequest, snowflake, startFakeDiscord, type RecordedCall } from '../fakes';
import { describeDialogEndToEnd } from './harness';

const keys = discordKeyPair();
const APP = '1160000000000000001';
const credentials = { application_id: APP, bot_token: 'discord-e2e-bot-token', public_key: keys.publicKeyHex };

/** Follow-ups name the interaction token, not the channel: tokens here carry their channel. */
const tokenFor = (chat: string) => `tok.${chat}.${snowflake()}`;
const chatOf = (call: RecordedCall): string | undefined => {
  const followup = /^\/webhooks\/\d+\/tok\.(\d+)\./.exec(call.path);
  if (followup) return followup[1];
  return /^\/channels\/(\d+)\/messages$/.exec(call.path)?.[1];
};

describeDialogEndToEnd('Discord', async () => ({
  platform: 'discord',
  fake: await startFakeDiscord({ botToken: credentials.bot_token, applicationId: APP }),
  credentials,
  sendMethod: 'createFollowupMessage',
  chat: (n) => `117000000000000000${n}`,
  command: (_bot, chat, id, name) =>
    discordRequest(discordCommand({ applicationId: APP, channelId: chat, userId: '80351110224678912', id, token: tokenFor(chat), name }), keys),
  text: (_bot, chat, id, text) =>
    discordRequest(
      discordCommand({
        applicationId: APP,
        channelId: chat,
        userId: '80351110224678912',
        id,
        token: tokenFor(chat),
        name: 'answer',
        options: [{ name: 'text', type: 3, value: text }],
      }),
      keys,
    ),
  button: (_bot, chat, id, value, label) =>
    discordRequest(
      discordButton({ applicationId: APP, channelId: chat, userId: '80351110224678912', id, token: tokenFor(chat), customId: value, label }),
      keys,
    ),
  chatOf,
  textOf: (call) => call.body.content as string | undefined,
  buttonsOf: (call) =>
    ((call.body.components ?? []) as { components: { custom_id: string }[] }[]).flatMap((row) => row.components.map((button) => button.custom_id)),
  permanentFailure: { status: 403, description: 'Missing Access', code: 50001 },
  permanentDescription: 'Missing Access (code 50001)',
}));
