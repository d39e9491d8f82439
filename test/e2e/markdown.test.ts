/**
 * A `format: "markdown"` step through the real path on each platform: signed webhook → API →
 * dialog workflow → send activity → adapter → the platform's fake, with a guest whose name is markup.
 */
import {
  discordCommand,
  discordKeyPair,
  discordRequest,
  messengerWebhook,
  slackMessageWebhook,
  startFakeDiscord,
  startFakeMessenger,
  startFakeSlack,
  startFakeTelegram,
  startFakeWhatsApp,
  telegramUpdate,
  whatsappWebhook,
  type FakeServer,
  type RecordedCall,
  type SignedRequest,
} from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import type { PlatformName } from '../../src/platforms/types';

const HOSTILE_NAME = '*_[x](javascript:y)';
const ZWSP = '\u200b';

const scenario = {
  version: '1.0',
  start_step: 'ask_name',
  steps: {
    ask_name: { type: 'message', message: { text: 'Your name?' }, expected_input: { type: 'text', variable: 'user_name' }, next_step: 'confirm' },
    confirm: { type: 'message', message: { text: 'Your table is **booked**, {{user_name}}', format: 'markdown' }, next_step: null },
  },
};

interface Driver {
  platform: PlatformName;
  fake: FakeServer;
  credentials: Record<string, string>;
  sendMethod: string;
  chat: string;
  /** The user's message `text` (a `/start` command included) as the platform posts it. */
  message(webhookSecret: string | undefined, id: number, text: string): SignedRequest;
  textOf(call: RecordedCall): unknown;
  /** What the guest sees, in the platform's markup. */
  expected: string;
}

const keys = discordKeyPair();
const DISCORD_APP = '1160000000000000002';

async function drivers(): Promise<Driver[]> {
  const telegram = { token: '7000002:AAH-markdown' };
  const slack = { bot_token: 'xoxb-markdown', signing_secret: 'markdown-signing-secret' };
  const whatsapp = { phone_number_id: '106540352242923', access_token: 'EAAJB-markdown', app_secret: 'markdown-app-secret', verify_token: 'v' };
  const messenger = { page_id: '104560000000002', page_access_token: 'EAAG-markdown', app_secret: 'markdown-app-secret', verify_token: 'v' };
  const discord = { application_id: DISCORD_APP, bot_token: 'discord-markdown-token', public_key: keys.publicKeyHex };
  const literal = [...HOSTILE_NAME].map((char) => (/[*_~`]/.test(char) ? `${ZWSP}${char}${ZWSP}` : char)).join('');
  return [
    {
      platform: 'telegram',
      fake: await startFakeTelegram(),
      credentials: telegram,
      sendMethod: 'sendMessage',
      chat: '6001',
      message: (secret, id, text) => telegramUpdate({ updateId: id, chatId: 6001, text, secret }),
      textOf: (call) => call.body.text,
      expected: `Your table is <b>booked</b>, ${HOSTILE_NAME}`,
    },
    {
      platform: 'slack',
      fake: await startFakeSlack({ botToken: slack.bot_token }),
      credentials: slack,
      sendMethod: 'chat.postMessage',
      chat: 'D0MARKDOWN',
      message: (_secret, id, text) =>
        slackMessageWebhook({ channel: 'D0MARKDOWN', user: 'U0ANNA', text, eventId: `EvMarkdown${id}`, signingSecret: slack.signing_secret }),
      textOf: (call) => call.body.text,
      expected: `Your table is *booked*, ${literal}`,
    },
    {
      platform: 'whatsapp',
      fake: await startFakeWhatsApp({ phoneNumberId: whatsapp.phone_number_id, accessToken: whatsapp.access_token }),
      credentials: whatsapp,
      sendMethod: 'messages',
      chat: '16505552001',
      message: (_secret, id, text) =>
        whatsappWebhook({ phoneNumberId: whatsapp.phone_number_id, from: '16505552001', id: `wamid.markdown${id}`, text, appSecret: whatsapp.app_secret }),
      textOf: (call) => (call.body as { text?: { body: string } }).text?.body,
      expected: `Your table is *booked*, ${literal}`,
    },
    {
      platform: 'messenger',
      fake: await startFakeMessenger({ pageId: messenger.page_id, pageAccessToken: messenger.page_access_token }),
      credentials: messenger,
      sendMethod: 'messages',
      chat: '6543210987654329',
      message: (_secret, id, text) =>
        messengerWebhook({ pageId: messenger.page_id, psid: '6543210987654329', mid: `m_markdown${id}`, text, appSecret: messenger.app_secret }),
      textOf: (call) => (call.body as { message?: { text?: string } }).message?.text,
      expected: `Your table is *booked*, ${literal}`,
    },
    {
      platform: 'discord',
      fake: await startFakeDiscord({ botToken: discord.bot_token, applicationId: DISCORD_APP }),
      credentials: discord,
      sendMethod: 'createFollowupMessage',
      chat: '1170000000000000099',
      message: (_secret, id, text) => {
        const base = { applicationId: DISCORD_APP, channelId: '1170000000000000099', userId: '80351110224678912', id: `${id}`, token: `tok.md.${id}` };
        const command = text.startsWith('/')
          ? discordCommand({ ...base, name: text.slice(1) })
          : discordCommand({ ...base, name: 'answer', options: [{ name: 'text', type: 3, value: text }] });
        return discordRequest(command, keys);
      },
      textOf: (call) => call.body.content,
      expected: 'Your table is **booked**, \\*\\_\\[x\\]\\(javascript:y\\)',
    },
  ];
}

describe('a markdown message end to end', () => {
  let stack: Stack;
  let all: Driver[];

  beforeAll(async () => {
    all = await drivers();
    stack = await startStack({ db: 'sqlite', apiBases: Object.fromEntries(all.map((driver) => [driver.platform, driver.fake.url])) });
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all((all ?? []).map((driver) => driver.fake.close()));
  });

  it.each(['telegram', 'slack', 'whatsapp', 'messenger', 'discord'] as const)(
    '%s: a bold word in the platform markup, the guest name shown literally',
    async (platform) => {
      const driver = all.find((candidate) => candidate.platform === platform) as Driver;
      const bot = await stack.createBot({ platform, credentials: driver.credentials, scenario });
      const post = async (request: SignedRequest) => {
        const response = await stack.http.post(`/v1/webhooks/${platform}/${bot.id}`).set(request.headers).send(request.body);
        expect(response.status).toBe(200);
      };
      const sent = () => driver.fake.callsTo(driver.sendMethod).filter((call) => call.ok);
      const base = Date.now() % 1_000_000_000;

      await post(driver.message(bot.webhookSecret, base, '/start'));
      await eventually(() => sent().length >= 1 || undefined, 20_000, 'the name question');
      await post(driver.message(bot.webhookSecret, base + 1, HOSTILE_NAME));
      const [question, confirmation] = await eventually(() => (sent().length >= 2 ? sent() : undefined), 20_000, 'the confirmation');

      expect(driver.textOf(question)).toBe('Your name?');
      expect(driver.textOf(confirmation)).toBe(driver.expected);
      if (platform === 'telegram') {
        expect(question.body).not.toHaveProperty('parse_mode');
        expect(confirmation.body.parse_mode).toBe('HTML');
        expect(confirmation.response).toMatchObject({
          result: { text: `Your table is booked, ${HOSTILE_NAME}`, entities: [{ type: 'bold', offset: 14, length: 6 }] },
        });
      }
      if (platform === 'slack') expect(confirmation.body.mrkdwn).toBe(true);
    },
  );
});
