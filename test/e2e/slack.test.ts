import { slackButtonWebhook, slackMessageWebhook, startFakeSlack } from '../fakes';
import { describeDialogEndToEnd } from './harness';

const credentials = { bot_token: 'xoxb-e2e-token', signing_secret: 'e2e-signing-secret' };

describeDialogEndToEnd('Slack', async () => ({
  platform: 'slack',
  fake: await startFakeSlack({ botToken: credentials.bot_token }),
  credentials,
  sendMethod: 'chat.postMessage',
  chat: (n) => `D0E2E000${n}`,
  command: (_bot, chat, id, name) =>
    slackMessageWebhook({ channel: chat, user: 'U0ANNA', text: `/${name}`, eventId: `Ev${id}`, signingSecret: credentials.signing_secret }),
  text: (_bot, chat, id, text) => slackMessageWebhook({ channel: chat, user: 'U0ANNA', text, eventId: `Ev${id}`, signingSecret: credentials.signing_secret }),
  button: (_bot, chat, id, value, label) =>
    slackButtonWebhook({ channel: chat, user: 'U0ANNA', value, text: label, triggerId: `${id}.1.abc`, signingSecret: credentials.signing_secret }),
  chatOf: (call) => call.body.channel as string | undefined,
  textOf: (call) => call.body.text as string | undefined,
  buttonsOf: (call) =>
    ((call.body.blocks ?? []) as { type: string; elements?: { value: string }[] }[])
      .filter((block) => block.type === 'actions')
      .flatMap((block) => (block.elements ?? []).map((element) => element.value)),
  permanentFailure: { status: 200, code: 'channel_not_found' },
  permanentDescription: 'channel_not_found',
}));
