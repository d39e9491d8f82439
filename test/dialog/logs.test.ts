/**
 * The activities' structured logs on a real dialog: every line in the spec's shape, with the spec's
 * event types and the dialog's context (bot, platform, chat, workflow id), without what the user typed.
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
  const lines: { timestamp: string; level: string; event_type: string; message: string; context: Record<string, unknown>; data: Record<string, unknown> }[] =
    [];

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
    await eventually(() => lines.some((l) => l.event_type === 'ERROR' && l.message === 'error') || undefined, 10_000, 'the error line');

    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['context', 'data', 'event_type', 'level', 'message', 'timestamp']);
      expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR']).toContain(line.level);
      expect(typeof line.message).toBe('string');
    }
    const types = new Set(lines.map((l) => l.event_type));
    for (const type of ['INCOMING', 'OUTGOING', 'STATE_CHANGE', 'VARIABLE_UPDATE', 'CONDITION_EVAL', 'AUTO_TRANSITION', 'ERROR', 'DEBUG'])
      expect(types).toContain(type);

    const dialogLines = lines.filter((l) => l.context.chat_id !== undefined);
    expect(dialogLines.length).toBeGreaterThan(10);
    for (const line of dialogLines)
      expect(line.context).toMatchObject({ bot_id: h.botId, platform: 'telegram', chat_id: String(chat), workflow_id: h.workflowId(chat) });
    const find = (type: string, data: Record<string, unknown> = {}) =>
      lines.find((l) => l.event_type === type && Object.entries(data).every(([k, v]) => l.data[k] === v));
    expect(find('CONDITION_EVAL')?.data).toMatchObject({ condition: 'guests > 8', result: true, step: 'ask_guests' });
    expect(find('VARIABLE_UPDATE', { variable: 'user_name' })?.level).toBe('INFO');
    expect(find('AUTO_TRANSITION')?.data).toMatchObject({ from: 'welcome', to: 'ask_name' });
    expect(lines.filter((l) => l.event_type === 'INCOMING')).toHaveLength(4);
    // The engine's error event, and the failed send that caused it, with the platform's error and its stack.
    expect(find('ERROR', { kind: 'error' })).toMatchObject({ level: 'ERROR', data: { code: 'send_failed', error: { message: expect.any(String) } } });
    const failedSend = lines.find((l) => l.event_type === 'ERROR' && l.message === 'send failed');
    expect(failedSend).toMatchObject({ level: 'ERROR', data: { error: { type: 'PlatformApiError', message: expect.stringContaining('blocked') } } });
    expect(failedSend?.data.error).toHaveProperty('stack', expect.stringContaining('PlatformApiError'));
    expect(lines.filter((l) => l.event_type === 'DEBUG').every((l) => l.level === 'DEBUG')).toBe(true);

    const text = JSON.stringify(lines);
    expect(text).not.toContain('Zoltan');
    expect(text).not.toContain('lots');
    expect(text).not.toContain('AAH-test-token');
  });
});
