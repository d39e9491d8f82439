/**
 * The activities' structured logs: pino JSON lines with the spec's event types and the dialog's
 * context (bot, platform, chat, workflow id), and without what the user typed.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { eventually } from '../support/stack';
import { connectTemporal, type Harness, startHarness } from './harness';
import { bookingScenario } from './scenarios';

const scenario = {
  ...bookingScenario,
  steps: {
    ...bookingScenario.steps,
    ask_guests: { ...bookingScenario.steps.ask_guests, conditions: [{ condition: 'guests > 8', next_step: 'large_party' }] },
    large_party: { id: 'large_party', type: 'message', message: { text: 'A manager will call you.' }, next_step: null },
  },
};

describe('structured dialog logs', () => {
  let tg: FakeTelegram;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let h: Harness;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    tg = await startFakeTelegram();
    temporal = await connectTemporal();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    h = await startHarness({ telegram: tg, scenario, dbKind: 'sqlite', temporal, log: createLogger('debug', sink) });
  });
  afterAll(async () => {
    await h?.close();
    await temporal?.close();
    await tg.close();
  });

  it('logs each kind of event with the dialog context, and no message text or collected values', async () => {
    const chat = 9001;
    await h.send(chat, '/start');
    await h.send(chat, 'Zoltan Quixotic');
    await h.send(chat, 'lots');
    await eventually(() => h.textsTo(chat).length >= 4 || undefined, 20_000, 'four replies');
    // The platform refuses the next reply for good (the user blocked the bot): an ERROR line.
    tg.failNext({ status: 403, description: 'Forbidden: bot was blocked by the user', method: 'sendMessage' });
    await h.send(chat, '12');
    await eventually(async () => ((await h.state(chat)).status === 'completed' ? true : undefined), 20_000, 'completed');
    await eventually(() => lines.some((l) => l.event === 'ERROR' && l.kind === 'error') || undefined, 10_000, 'the error line');

    const events = new Set(lines.map((l) => l.event));
    for (const type of ['INCOMING', 'OUTGOING', 'STATE_CHANGE', 'VARIABLE_UPDATE', 'CONDITION_EVAL', 'AUTO_TRANSITION', 'ERROR', 'DEBUG']) expect(events).toContain(type);

    const dialogLines = lines.filter((l) => l.event !== undefined);
    for (const line of dialogLines) {
      expect(line).toMatchObject({ bot_id: h.botId, platform: 'telegram', chat_id: String(chat), workflow_id: h.workflowId(chat) });
      expect(typeof line.time).toBe('string');
      expect(typeof line.level).toBe('string');
    }
    expect(lines.find((l) => l.event === 'CONDITION_EVAL')).toMatchObject({ condition: 'guests > 8', result: true, step: 'ask_guests' });
    expect(lines.find((l) => l.event === 'VARIABLE_UPDATE' && l.variable === 'user_name')).toBeDefined();
    expect(lines.find((l) => l.event === 'AUTO_TRANSITION')).toMatchObject({ from: 'welcome', to: 'ask_name' });
    expect(lines.filter((l) => l.event === 'INCOMING')).toHaveLength(4);
    expect(lines.find((l) => l.event === 'ERROR' && l.kind === 'error')).toMatchObject({ code: 'send_failed', level: 'warn' });

    const text = JSON.stringify(lines);
    expect(text).not.toContain('Zoltan');
    expect(text).not.toContain('lots');
    expect(text).not.toContain('AAH-test-token');
  });
});
