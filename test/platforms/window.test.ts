/**
 * The 24-hour window's rules (src/platforms/window.ts) and how the WhatsApp and Messenger adapters
 * send past it, against the fakes, which check the shapes Meta checks.
 */
import { validateScenario } from '../../src/engine';
import { GraphApiError } from '../../src/platforms/shared/meta';
import { messengerAdapter } from '../../src/platforms/messenger';
import { whatsappAdapter } from '../../src/platforms/whatsapp';
import { HUMAN_AGENT_WINDOW_MS, pastWindow, type SendPastWindow, throughWindow, WINDOW_MS, windowRefusal } from '../../src/platforms/window';
import { type FakeMessenger, type FakeWhatsApp, startFakeMessenger, startFakeWhatsApp } from '../fakes';

const HOUR = 3_600_000;

describe('past the window', () => {
  const now = Date.parse('2026-03-02T12:00:00Z');

  it('counts from the last user message; unknown counts as inside', () => {
    expect(pastWindow('2026-03-01T12:00:00Z', now)).toBeNull();
    expect(pastWindow('2026-03-01T11:59:59Z', now)).toBe(WINDOW_MS + 1000);
    expect(pastWindow(undefined, now)).toBeNull();
    expect(pastWindow('not a time', now)).toBeNull();
  });

  const send = (overrides: Partial<SendPastWindow>): SendPastWindow => ({
    platform: 'messenger',
    message: { text: 'Still there?' },
    age: 25 * HOUR,
    handoff: false,
    settings: {},
    ...overrides,
  });

  it('Messenger: HUMAN_AGENT during a handoff for 7 days, then the configured tag, else a skip that names the setting', () => {
    const tagged = { settings: { messenger_tag: 'POST_PURCHASE_UPDATE' } };
    expect(throughWindow(send({ handoff: true, ...tagged }))).toEqual({ outside: { messengerTag: 'HUMAN_AGENT' } });
    expect(throughWindow(send({ handoff: true, age: HUMAN_AGENT_WINDOW_MS + 1, ...tagged }))).toEqual({ outside: { messengerTag: 'POST_PURCHASE_UPDATE' } });
    expect(throughWindow(send(tagged))).toEqual({ outside: { messengerTag: 'POST_PURCHASE_UPDATE' } });
    expect(throughWindow(send({}))).toEqual({ skip: expect.stringContaining('set "messenger_tag"') });
    // HUMAN_AGENT is a person's tag: a bot's setting may not claim it.
    const claimed = throughWindow(send({ settings: { messenger_tag: 'HUMAN_AGENT' } }));
    expect(claimed).toEqual({ skip: expect.stringContaining('the connection setting "messenger_tag" is not valid') });
  });

  it("WhatsApp: the step's template first, else the connection's with the reply's text, else a skip", () => {
    const connection = { settings: { whatsapp_template: { name: 'reminder', language: 'en' } } };
    const own = { name: 'follow_up', language: 'en_US', parameters: ['Anna'] };
    expect(throughWindow(send({ platform: 'whatsapp', message: { text: 'Hi', whatsapp_template: own }, ...connection }))).toEqual({
      outside: { whatsappTemplate: own },
    });
    expect(throughWindow(send({ platform: 'whatsapp', ...connection }))).toEqual({
      outside: { whatsappTemplate: { name: 'reminder', language: 'en', parameters: ['Still there?'] } },
    });
    expect(throughWindow(send({ platform: 'whatsapp', message: { media: [{ type: 'image', url: 'https://cdn.example/a.jpg' }] }, ...connection }))).toEqual({
      skip: expect.stringContaining('no text'),
    });
    expect(throughWindow(send({ platform: 'whatsapp', settings: { whatsapp_template: { name: 'Bad Name', language: 'en' } } }))).toEqual({
      skip: expect.stringContaining('"whatsapp_template" is not valid'),
    });
    expect(throughWindow(send({ platform: 'whatsapp' }))).toEqual({ skip: expect.stringContaining('set "whatsapp_template"') });
  });

  it("reads the platforms' own refusals, and only those", () => {
    const graph = (platform: 'whatsapp' | 'messenger', code: number, subcode?: number) =>
      new GraphApiError(platform, 'messages', 400, 'refused', false, undefined, code, subcode);
    expect(windowRefusal(graph('whatsapp', 131047))).toContain('WhatsApp takes only an approved template');
    expect(windowRefusal(graph('messenger', 10, 2018278))).toContain('"messenger_tag"');
    expect(windowRefusal(graph('messenger', 10))).toBeNull();
    expect(windowRefusal(graph('whatsapp', 131026))).toBeNull();
    expect(windowRefusal(new Error('131047'))).toBeNull();
  });
});

describe('the step field whatsapp_template', () => {
  const scenarioWith = (template: unknown) => ({
    start_step: 'ask',
    steps: {
      ask: { type: 'message', message: { text: 'Day?' }, expected_input: { type: 'text', variable: 'day' }, whatsapp_template: template, next_step: 'thanks' },
      thanks: { type: 'message', message: { text: 'Thank you.' } },
    },
  });

  it('takes a name and language as Meta writes them, with templated parameters', () => {
    expect(validateScenario(scenarioWith({ name: 'booking_follow_up', language: 'pt_BR', parameters: ['{{day}}'] })).errors).toEqual([]);
    expect(validateScenario(scenarioWith({ name: 'reminder', language: 'en' })).errors).toEqual([]);
  });

  it.each([
    [{ name: 'Booking-Reminder', language: 'en' }, '/steps/ask/whatsapp_template/name'],
    [{ name: 'reminder', language: 'english' }, '/steps/ask/whatsapp_template/language'],
    [{ name: 'reminder', language: 'en', parameters: Array(21).fill('x') }, '/steps/ask/whatsapp_template/parameters'],
    [{ name: 'reminder', language: 'en', header: 'x' }, '/steps/ask/whatsapp_template/header'],
  ])('refuses %j', (template, path) => {
    const { errors } = validateScenario(scenarioWith(template));
    expect(errors.map((error) => error.path)).toContain(path);
  });
});

describe('sending past the window', () => {
  const waCredentials = { phone_number_id: '106540352242922', access_token: 'EAAG-wa', app_secret: 's', verify_token: 'v' };
  const msCredentials = { page_id: '104560000000001', page_access_token: 'EAAG-ms', app_secret: 's', verify_token: 'v' };
  let wa: FakeWhatsApp;
  let ms: FakeMessenger;
  beforeAll(async () => {
    wa = await startFakeWhatsApp({ templates: [{ name: 'reminder', language: 'en', parameters: 1 }] });
    ms = await startFakeMessenger();
  });
  afterAll(async () => {
    await wa.close();
    await ms.close();
  });

  it('WhatsApp sends the template alone, one part, with parameters Meta takes', async () => {
    wa.setOutsideWindow('447700900001');
    const message = { text: 'Long\n\ttext', media: [{ type: 'image' as const, url: 'https://cdn.example/a.jpg' }], buttons: [{ text: 'Yes', value: 'y' }] };
    const template = { name: 'reminder', language: 'en', parameters: ['Still   there,\n\n   Anna?      Tell us.'] };
    const result = await whatsappAdapter.send({ apiBase: wa.url }, waCredentials, '447700900001', message, { message_id: 'wamid.x' }, undefined, {
      whatsappTemplate: template,
    });
    expect(result.messageIds).toHaveLength(1);
    const calls = wa.calls.filter((call) => call.path.endsWith('/messages'));
    expect(calls.map((call) => [call.body.type, call.status])).toEqual([['template', 200]]);
    expect((calls[0].body.template as { components: unknown }).components).toEqual([
      { type: 'body', parameters: [{ type: 'text', text: 'Still there, Anna? Tell us.' }] },
    ]);

    await expect(whatsappAdapter.send({ apiBase: wa.url }, waCredentials, '447700900001', { text: 'Free form' })).rejects.toMatchObject({ code: 131047 });
    await expect(
      whatsappAdapter.send({ apiBase: wa.url }, waCredentials, '447700900001', { text: 'x' }, undefined, undefined, {
        whatsappTemplate: { name: 'reminder', language: 'en', parameters: ['a', 'b'] },
      }),
    ).rejects.toMatchObject({ code: 132000 });
  });

  it('Messenger tags every part: media, caption and text', async () => {
    ms.setOutsideWindow('6245861937');
    const message = { text: 'Your table is ready.', media: [{ type: 'image' as const, url: 'https://cdn.example/a.jpg', caption: 'Table 4' }] };
    await messengerAdapter.send({ apiBase: ms.url }, msCredentials, '6245861937', message, undefined, undefined, { messengerTag: 'ACCOUNT_UPDATE' });
    const sent = ms.callsTo('messages');
    expect(sent.map((call) => [call.body.messaging_type, call.body.tag, call.status])).toEqual([
      ['MESSAGE_TAG', 'ACCOUNT_UPDATE', 200],
      ['MESSAGE_TAG', 'ACCOUNT_UPDATE', 200],
      ['MESSAGE_TAG', 'ACCOUNT_UPDATE', 200],
    ]);
    await expect(messengerAdapter.send({ apiBase: ms.url }, msCredentials, '6245861937', { text: 'Untagged' })).rejects.toMatchObject({
      code: 10,
      subcode: 2018278,
    });
  });
});
