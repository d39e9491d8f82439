/**
 * Timeouts are durable timers in the dialog workflow: they remind, reset, abandon or jump as the
 * scenario says, and a new user message cancels them. Time is skipped by Temporal's time-skipping
 * test server; everything else is real. That a timer survives a killed worker is in faults.test.ts.
 */
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { eventually } from '../support/stack';
import { type Harness, startHarness } from './harness';
import { bookingScenario } from './scenarios';

const withTimeout = (timeout: Record<string, unknown>, stepTimeouts: Record<string, Record<string, unknown>> = {}) => {
  const steps: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(bookingScenario.steps)) steps[id] = stepTimeouts[id] ? { ...step, timeout: stepTimeouts[id] } : step;
  steps.fallback = { id: 'fallback', type: 'message', message: { text: 'Call us on 555-0100 instead.' }, next_step: null };
  return { ...bookingScenario, settings: { ...bookingScenario.settings, timeout }, steps };
};

describe('dialog timeouts (time-skipping)', () => {
  let tg: FakeTelegram;
  let h: Harness;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    h = await startHarness({
      telegram: tg,
      scenario: withTimeout(
        { after: '30m', action: 'remind', message: 'Still there, {{user_name|friend}}?', max_reminders: 2, then: 'abandon' },
        {
          ask_guests: { after: '10m', action: 'reset' },
          pick_time: { after: '5m', action: 'goto', step: 'fallback' },
        },
      ),
    });
  });
  afterAll(async () => {
    await h?.close();
    await tg.close();
  });

  const waitTexts = (chat: number, count: number) =>
    eventually(() => (h.textsTo(chat).length >= count ? h.textsTo(chat) : undefined), 20_000, `${count} texts to ${chat}`);
  const waitRevision = (chat: number, revision: number) =>
    eventually(async () => ((await h.state(chat)).version >= revision ? h.state(chat) : undefined), 20_000, `revision ${revision}`);

  it('reminds up to max_reminders, then abandons; the dialog starts over when the user comes back', async () => {
    const chat = 2001;
    await h.send(chat, '/start');
    await waitTexts(chat, 2);

    await h.env!.sleep('31 minutes');
    await waitTexts(chat, 3);
    await h.env!.sleep('30 minutes');
    await waitTexts(chat, 4);
    await h.env!.sleep('30 minutes');
    const abandoned = await eventually(async () => ((await h.state(chat)).status === 'abandoned' ? h.state(chat) : undefined), 20_000, 'abandoned');
    expect(abandoned.current_step).toBe('ask_name');
    expect(h.textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'Still there, friend?', 'Still there, friend?']);

    // Abandoned is final: no timer runs any more, however long the chat stays silent.
    await h.env!.sleep('1 day');
    expect((await h.state(chat)).version).toBe(abandoned.version);

    const description = await h.client.workflow.getHandle(h.workflowId(chat)).describe();
    expect(description.status.name).toBe('RUNNING');

    await h.send(chat, 'hello again');
    await waitTexts(chat, 6);
    expect(h.textsTo(chat).slice(4)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    expect((await h.state(chat)).status).toBe('active');

    const kinds = (await h.events(chat)).map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === 'timeout_fired')).toHaveLength(3);
    expect(kinds.filter((k: string) => k === 'reminder_sent')).toHaveLength(2);
    expect(kinds.filter((k: string) => k === 'dialog_abandoned')).toHaveLength(1);
    expect(kinds.filter((k: string) => k === 'dialog_started')).toHaveLength(2);
  });

  it('a user message cancels the running timer and the next one starts from that message', async () => {
    const chat = 2002;
    await h.send(chat, '/start');
    await waitTexts(chat, 2);
    await h.env!.sleep('20 minutes');
    await h.send(chat, 'Anna');
    await waitTexts(chat, 3);
    await waitRevision(chat, 2);
    // ask_guests has its own 10-minute reset; answering it moves to pick_time (5-minute goto).
    await h.env!.sleep('4 minutes');
    await h.send(chat, '3');
    await waitTexts(chat, 4);
    await h.env!.sleep('4 minutes');
    await h.send(chat, '18');
    await waitTexts(chat, 5);
    const done = await eventually(async () => ((await h.state(chat)).status === 'completed' ? h.state(chat) : undefined), 20_000, 'completed');
    await h.env!.sleep('2 hours');
    expect((await h.state(chat)).version).toBe(done.version);
    expect(h.textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?', 'When?', 'Booked for 3 at 18:00, Anna.']);
    expect((await h.events(chat)).filter((e: { kind: string }) => e.kind === 'timeout_fired')).toHaveLength(0);
  });

  it('a step timeout resets to the checkpoint once, and a goto timeout jumps to its step', async () => {
    const chat = 2003;
    await h.send(chat, '/start');
    await h.send(chat, 'Bea');
    await waitTexts(chat, 3);
    await h.env!.sleep('11 minutes');
    // Reset to the checkpoint (ask_name) asks the name again, once: a reset does not repeat itself.
    await waitTexts(chat, 4);
    expect(h.textsTo(chat)[3]).toBe('Your name?');
    const reset = await h.state(chat);
    expect(reset).toMatchObject({ status: 'active', current_step: 'ask_name', collected_data: { user_name: 'Bea' } });

    await h.send(chat, 'Bea');
    await h.send(chat, '2');
    await waitTexts(chat, 6);
    await h.env!.sleep('6 minutes');
    await waitTexts(chat, 7);
    expect(h.textsTo(chat)[6]).toBe('Call us on 555-0100 instead.');
    const jumped = await eventually(async () => ((await h.state(chat)).status === 'completed' ? h.state(chat) : undefined), 20_000, 'completed after goto');
    expect(jumped.current_step).toBeNull();
    const fired = (await h.events(chat)).filter((e: { kind: string }) => e.kind === 'timeout_fired');
    expect(fired.map((e: { step: string }) => e.step)).toEqual(['ask_guests', 'pick_time']);
  });
});
