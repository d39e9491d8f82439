/**
 * One short booking dialog per platform through the real path: signed webhook → API → Temporal
 * dialog workflow → send activity → adapter → the platform's fake. Each platform file supplies a
 * driver that builds its inbound requests and reads its outbound calls.
 */
import type { FailureSpec, FakeServer, RecordedCall, SignedRequest } from '../fakes';
import { bookingScenario } from '../dialog/scenarios';
import { eventually, type Stack, startStack } from '../support/stack';
import type { PlatformName } from '../../src/platforms/types';

export interface Bot {
  id: string;
  webhookSecret?: string;
}

export interface PlatformDriver {
  platform: PlatformName;
  fake: FakeServer;
  credentials: Record<string, string>;
  /** The fake's method name of an outgoing message. */
  sendMethod: string;
  /** A fresh chat id for the platform. */
  chat(n: number): string;
  command(bot: Bot, chat: string, eventId: string, name: string): SignedRequest;
  text(bot: Bot, chat: string, eventId: string, text: string): SignedRequest;
  button(bot: Bot, chat: string, eventId: string, value: string, label: string): SignedRequest;
  /** The chat an outgoing call went to, its text, and its button values. */
  chatOf(call: RecordedCall): string | undefined;
  textOf(call: RecordedCall): string | undefined;
  buttonsOf(call: RecordedCall): string[];
  /** A failure the platform gives for a message that can never be delivered, and its description. */
  permanentFailure: FailureSpec;
  permanentDescription: string;
  /** A forgery of a request; default: the body changed after signing. */
  forge?(request: SignedRequest): SignedRequest;
}

export function describeDialogEndToEnd(name: string, makeDriver: () => Promise<PlatformDriver>): void {
  describe(`a ${name} dialog end to end`, () => {
    let driver: PlatformDriver;
    let stack: Stack;
    let bot: Bot & { headers: Record<string, string> };
    let eventCounter = 0;

    beforeAll(async () => {
      driver = await makeDriver();
      stack = await startStack({ db: 'sqlite', apiBases: { [driver.platform]: driver.fake.url } });
      bot = await stack.createBot({ platform: driver.platform, credentials: driver.credentials, scenario: bookingScenario });
    });
    afterAll(async () => {
      await stack?.close();
      await driver?.fake.close();
    });

    const eventId = () => `${Date.now()}${String((eventCounter += 1)).padStart(4, '0')}`;
    const post = async (request: SignedRequest) => {
      const response = await stack.http.post(`/v1/webhooks/${driver.platform}/${bot.id}`).set(request.headers).send(request.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response;
    };
    const sentTo = (chat: string, ok = true) => driver.fake.callsTo(driver.sendMethod).filter((call) => driver.chatOf(call) === chat && call.ok === ok);
    const textsTo = (chat: string) => sentTo(chat).map((call) => driver.textOf(call));
    const waitForTexts = (chat: string, count: number, what: string) => eventually(() => textsTo(chat).length >= count || undefined, 20_000, what);

    it('runs the booking with buttons, and a redelivered event changes nothing', async () => {
      const chat = driver.chat(1);
      await post(driver.command(bot, chat, eventId(), 'start'));
      await waitForTexts(chat, 2, 'welcome and the name question');
      expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

      const name = driver.text(bot, chat, eventId(), 'Anna');
      await post(name);
      await post(name);
      await waitForTexts(chat, 3, 'the guests question');
      await post(driver.text(bot, chat, eventId(), '4'));
      await waitForTexts(chat, 4, 'the time question');
      const question = sentTo(chat).at(-1) as RecordedCall;
      expect(driver.textOf(question)).toBe('When?');
      expect(driver.buttonsOf(question)).toEqual(['18', '20']);

      await post(driver.button(bot, chat, eventId(), '20', '20:00'));
      await waitForTexts(chat, 5, 'the confirmation');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?', 'When?', 'Booked for 4 at 20:00, Anna.']);

      const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/${driver.platform}/${encodeURIComponent(chat)}`).set(bot.headers);
      expect(state.body).toMatchObject({ status: 'completed', collected_data: { user_name: 'Anna', guests: 4, time: '20', booked: true } });
    });

    it('refuses a forged request and starts nothing', async () => {
      const chat = driver.chat(2);
      const request = driver.command(bot, chat, eventId(), 'start');
      const forged = driver.forge ? driver.forge(request) : { ...request, body: request.body.replace('start', 'stArt') };
      const response = await stack.http.post(`/v1/webhooks/${driver.platform}/${bot.id}`).set(forged.headers).send(forged.body);
      expect(response.status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sentTo(chat)).toHaveLength(0);
    });

    it('waits out a 429 and then delivers once', async () => {
      const chat = driver.chat(3);
      driver.fake.failNext({ method: driver.sendMethod, status: 429, retryAfter: 1 });
      await post(driver.command(bot, chat, eventId(), 'start'));
      await waitForTexts(chat, 2, 'welcome after the rate limit');
      const limited = sentTo(chat, false);
      expect(limited.map((call) => call.status)).toEqual([429]);
      expect(driver.textOf(limited[0])).toBe('Welcome to Chez Anna!');
      expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    });

    it('reports a permanent refusal without retrying, with the platform description', async () => {
      const chat = driver.chat(4);
      driver.fake.failNext({ method: driver.sendMethod, ...driver.permanentFailure });
      await post(driver.command(bot, chat, eventId(), 'start'));
      await waitForTexts(chat, 1, 'the next message after the refused one');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(sentTo(chat, false).map((call) => driver.textOf(call))).toEqual(['Welcome to Chez Anna!']);
      expect(textsTo(chat)).toEqual(['Your name?']);
      const event = await eventually(
        async () => {
          const rows: { data: unknown }[] = await stack.db('dialog_events').where({ bot_id: bot.id, kind: 'error' });
          return rows.find((row) => JSON.stringify(row.data).includes(driver.permanentDescription));
        },
        10_000,
        'the send_failed event',
      );
      expect(JSON.stringify(event.data)).toContain('send_failed');
    });
  });
}
