import { WebhookAuthError } from '../../src/platforms';
import { slackAdapter } from '../../src/platforms/slack';
import {
  slackButtonWebhook,
  slackEventPayload,
  slackMessageWebhook,
  slackRequest,
  slackUrlVerification,
  startFakeSlack,
  toWebhookRequest,
  type FakeServer,
  type SignedRequest,
} from '../fakes';
import { failure } from './failure';

const credentials = { bot_token: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy', signing_secret: '8f742231b10e8888abcd99yyyzzz85a5' };
const NOW = 1_531_420_618_000;
const TIMESTAMP = NOW / 1000;

let slack: FakeServer;
beforeAll(async () => {
  slack = await startFakeSlack({ botToken: credentials.bot_token });
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const ctx = () => ({ apiBase: slack.url });
const handle = (request: SignedRequest, now = NOW) => slackAdapter.handleWebhook(toWebhookRequest(request, { now }), credentials);
const event = (payload: Record<string, unknown>, eventId = 'Ev0PV52K21') =>
  handle(
    slackRequest(JSON.stringify(slackEventPayload(payload, eventId)), 'application/json', { signingSecret: credentials.signing_secret, timestamp: TIMESTAMP }),
  );

describe('slack request verification', () => {
  const message = (options: { signingSecret?: string; timestamp?: number }) =>
    slackMessageWebhook({ channel: 'D0DM1', user: 'U0ANNA', text: 'hello', ...options });

  it('accepts the v0 signature within the window', () => {
    expect(handle(message({ signingSecret: credentials.signing_secret, timestamp: TIMESTAMP })).messages).toHaveLength(1);
    expect(handle(message({ signingSecret: credentials.signing_secret, timestamp: TIMESTAMP - 299 })).messages).toHaveLength(1);
  });

  it("matches the example from Slack's documentation", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const request = {
      body,
      rawBody: Buffer.from(body),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': '1531420618',
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      },
    };
    const result = slackAdapter.handleWebhook(toWebhookRequest(request, { now: NOW }), credentials);
    expect(result.messages[0]).toMatchObject({
      chatId: 'G8PSS9T3V',
      messageId: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
      input: { kind: 'command', command: 'webhook-collect' },
    });
  });

  it('rejects forged, missing and stale signatures', () => {
    expect(() => handle(message({ signingSecret: 'forged', timestamp: TIMESTAMP }))).toThrow(WebhookAuthError);
    expect(() => handle(message({ timestamp: TIMESTAMP }))).toThrow(WebhookAuthError);
    expect(() => handle(message({ signingSecret: credentials.signing_secret, timestamp: TIMESTAMP - 301 }))).toThrow(WebhookAuthError);
    expect(() => handle(message({ signingSecret: credentials.signing_secret, timestamp: TIMESTAMP + 301 }))).toThrow(WebhookAuthError);
  });

  it('answers url_verification with the challenge', () => {
    const result = handle(
      slackUrlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', { signingSecret: credentials.signing_secret, timestamp: TIMESTAMP }),
    );
    expect(result).toEqual({ status: 200, body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }, messages: [] });
  });

  it('processes a retried delivery like the first, with the same event_id', () => {
    const options = { channel: 'D0DM1', user: 'U0ANNA', text: 'hello', eventId: 'Ev0RETRY', signingSecret: credentials.signing_secret, timestamp: TIMESTAMP };
    const first = handle(slackMessageWebhook(options));
    const retry = handle(slackMessageWebhook({ ...options, retryNum: 1 }));
    expect(retry.messages[0]?.messageId).toBe('Ev0RETRY');
    expect(retry.messages[0]?.messageId).toBe(first.messages[0]?.messageId);
  });
});

describe('slack normalization', () => {
  const base = { type: 'message', channel: 'D024BE91L', user: 'U2147483697', ts: '1355517523.000005', channel_type: 'im' };

  it('a direct message → text input keyed by event_id, chat = channel', () => {
    expect(event({ ...base, text: 'Table for 2 &amp; a high chair' }).messages).toEqual([
      {
        platform: 'slack',
        chatId: 'D024BE91L',
        messageId: 'Ev0PV52K21',
        user: { id: 'U2147483697' },
        input: { kind: 'text', text: 'Table for 2 & a high chair' },
        sentAt: '2012-12-14T20:38:43.000Z',
      },
    ]);
  });

  it('commands typed as text, mentions stripped, thread kept for the reply', () => {
    expect(event({ ...base, text: '/start' }).messages[0]?.input).toEqual({ kind: 'command', command: 'start' });
    const threaded = event({ ...base, channel_type: 'channel', text: '<@U0BOTUSER> hello', thread_ts: '1355517500.000001' }).messages[0];
    expect(threaded).toMatchObject({ input: { kind: 'text', text: 'hello' }, replyContext: { thread_ts: '1355517500.000001' } });
  });

  it('a file share → media input with the file id', () => {
    const files = [
      { id: 'F0FILE1', name: 'guests.png', mimetype: 'image/png', filetype: 'png', url_private: 'https://files.slack.com/files-pri/T0/F0FILE1/guests.png' },
    ];
    expect(event({ ...base, subtype: 'file_share', text: 'our group', files }).messages[0]?.input).toEqual({
      kind: 'media',
      media: { type: 'image', media_id: 'F0FILE1', mime: 'image/png', url: 'https://files.slack.com/files-pri/T0/F0FILE1/guests.png', caption: 'our group' },
    });
  });

  it('bot messages, edits, deletions, joins and other events are acknowledged and ignored', () => {
    expect(event({ ...base, text: 'mine', bot_id: 'B0BOTID01' })).toEqual({ status: 200, messages: [] });
    expect(event({ ...base, subtype: 'bot_message', text: 'x', bot_id: 'B1' }).messages).toEqual([]);
    expect(event({ ...base, subtype: 'message_changed', message: { text: 'edited' }, previous_message: { text: 'x' } }).messages).toEqual([]);
    expect(event({ ...base, subtype: 'message_deleted', deleted_ts: '1' }).messages).toEqual([]);
    expect(event({ ...base, subtype: 'channel_join', text: '<@U1> has joined' }).messages).toEqual([]);
    expect(event({ type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'messages' }).messages).toEqual([]);
  });

  it('a Block Kit button press (form-encoded payload) → button input, acknowledged with an empty 200', () => {
    const result = handle(
      slackButtonWebhook({
        channel: 'D0DM1',
        user: 'U0ANNA',
        value: '20',
        text: '20:00',
        triggerId: '13345224609.738474920.8088930838d88f008e0',
        signingSecret: credentials.signing_secret,
        timestamp: TIMESTAMP,
      }),
    );
    expect(result.status).toBe(200);
    expect(result.body).toBe('');
    expect(result.messages).toEqual([
      expect.objectContaining({
        platform: 'slack',
        chatId: 'D0DM1',
        messageId: '13345224609.738474920.8088930838d88f008e0',
        user: { id: 'U0ANNA', name: 'anna', username: 'anna' },
        input: { kind: 'button', value: '20', text: '20:00' },
      }),
    ]);
  });

  it('other interactivity (view submissions) is acknowledged only', () => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission', user: { id: 'U1' }, view: {} }))}`;
    const result = handle(slackRequest(body, 'application/x-www-form-urlencoded', { signingSecret: credentials.signing_secret, timestamp: TIMESTAMP }));
    expect(result).toEqual({ status: 200, body: '', messages: [] });
  });
});

describe('slack send', () => {
  it('posts text with the bot token as Bearer', async () => {
    const result = await slackAdapter.send(ctx(), credentials, 'D0DM1', { text: 'Welcome <friends> & family' });
    expect(slack.calls[0]?.path).toBe('/chat.postMessage');
    expect(slack.calls[0]?.headers.authorization).toBe(`Bearer ${credentials.bot_token}`);
    expect(slack.calls[0]?.body).toEqual({ channel: 'D0DM1', text: 'Welcome &lt;friends&gt; &amp; family' });
    expect(result.messageIds).toEqual([expect.stringMatching(/^\d+\.\d{6}$/)]);
  });

  it('buttons → a section and an actions block, in the thread of the conversation', async () => {
    await slackAdapter.send(
      ctx(),
      credentials,
      'C0CHAN',
      {
        text: 'When?',
        buttons: [
          { text: '18:00', value: '18' },
          { text: '20:00', value: '20' },
        ],
      },
      { thread_ts: '1355517500.000001' },
    );
    expect(slack.calls[0]?.body).toEqual({
      channel: 'C0CHAN',
      thread_ts: '1355517500.000001',
      text: 'When?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'When?' } },
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: '18:00', emoji: true }, value: '18', action_id: 'choice_0' },
            { type: 'button', text: { type: 'plain_text', text: '20:00', emoji: true }, value: '20', action_id: 'choice_1' },
          ],
        },
      ],
    });
    expect(slack.calls[0]?.status).toBe(200);
  });

  it('long text with buttons: sections of 3000, buttons on the last message', async () => {
    const text = Array.from({ length: 1000 }, (_, index) => `word${index}`).join(' ');
    await slackAdapter.send(ctx(), credentials, 'D0DM1', { text, buttons: [{ text: 'OK', value: 'ok' }] });
    const bodies = slack.calls.map((call) => call.body as { text: string; blocks?: unknown[] });
    expect(bodies.length).toBe(3);
    expect(bodies.every((body) => body.text.length <= 3000)).toBe(true);
    expect(bodies.map((body) => body.text).join(' ')).toBe(text);
    expect(bodies[2]?.blocks).toHaveLength(2);
    expect(slack.calls.every((call) => call.status === 200)).toBe(true);
  });

  it('long text without buttons stays one message up to 40,000 characters', async () => {
    const text = 'a '.repeat(10_000).trim();
    await slackAdapter.send(ctx(), credentials, 'D0DM1', { text });
    expect(slack.calls).toHaveLength(1);
  });

  it('media: images as image blocks, files as links', async () => {
    await slackAdapter.send(ctx(), credentials, 'D0DM1', {
      media: [
        { type: 'image', url: 'https://cdn.example/hall.jpg', caption: 'Hall' },
        { type: 'document', url: 'https://cdn.example/menu.pdf', caption: 'Menu' },
      ],
    });
    expect(slack.calls.map((call) => call.body)).toEqual([
      {
        channel: 'D0DM1',
        text: 'Hall',
        blocks: [{ type: 'image', image_url: 'https://cdn.example/hall.jpg', alt_text: 'Hall', title: { type: 'plain_text', text: 'Hall' } }],
      },
      { channel: 'D0DM1', text: '<https://cdn.example/menu.pdf|Menu>', unfurl_links: true },
    ]);
  });
});

describe('slack errors', () => {
  const send = () => slackAdapter.send(ctx(), credentials, 'D0DM1', { text: 'hi' });

  it('429 with Retry-After', async () => {
    slack.failNext({ status: 429, retryAfter: 30 });
    expect(await failure(send())).toMatchObject({
      platform: 'slack',
      method: 'chat.postMessage',
      status: 429,
      retryable: true,
      retryAfterSeconds: 30,
      description: 'ratelimited',
    });
  });

  it('5xx and internal_error are retryable', async () => {
    slack.failNext({ status: 503 });
    expect(await failure(send())).toMatchObject({ status: 503, retryable: true });
    slack.failNext({ status: 200, code: 'internal_error' });
    expect(await failure(send())).toMatchObject({ status: 200, retryable: true });
  });

  it('channel_not_found (HTTP 200, ok:false) is permanent', async () => {
    slack.failNext({ status: 200, code: 'channel_not_found' });
    const error = await failure(send());
    expect(error).toMatchObject({ retryable: false, description: 'channel_not_found' });
    expect(error.message).toBe('slack chat.postMessage failed (200): channel_not_found');
  });

  it('a bad token is permanent and never shown', async () => {
    const error = await failure(slackAdapter.testConnection(ctx(), { ...credentials, bot_token: 'xoxb-wrong-token' }));
    expect(error).toMatchObject({ retryable: false, description: 'invalid_auth' });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('xoxb-wrong-token');
  });
});

describe('slack setup', () => {
  it('testConnection calls auth.test', async () => {
    expect(await slackAdapter.testConnection(ctx(), credentials)).toEqual({
      ok: true,
      info: {
        url: 'https://getinn-test.slack.com/',
        team: 'GET INN Test',
        team_id: 'T0GETINN1',
        user: 'getinn_bot',
        user_id: 'U0BOTUSER',
        bot_id: 'B0BOTID01',
      },
    });
  });
});
