/**
 * Every line the logger writes is one JSON object in the product spec's shape:
 * `{timestamp, level, event_type, message, context, data}`.
 */
import Koa from 'koa';
import request from 'supertest';
import { errorEnvelope, requestId } from '../../api/middleware';
import { createLogger } from '../../src/log';

const SHAPE = ['context', 'data', 'event_type', 'level', 'message', 'timestamp'];
const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];

type Line = { timestamp: string; level: string; event_type: string; message: string; context: Record<string, unknown>; data: Record<string, unknown> };

/** A logger at `level` writing to an array, and the lines it wrote, each parsed and checked for the shape. */
function capture(level = 'trace') {
  const written: string[] = [];
  const log = createLogger(level, { write: (line: string) => void written.push(line) });
  const lines = (): Line[] =>
    written.map((text) => {
      expect(text.endsWith('\n')).toBe(true);
      expect(text.trimEnd()).not.toContain('\n');
      const line = JSON.parse(text) as Line;
      expect(Object.keys(line).sort()).toEqual(SHAPE);
      expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
      expect(LEVELS).toContain(line.level);
      return line;
    });
  return { log, lines, text: () => written.join('') };
}

describe('log lines in the spec shape', () => {
  it('maps every pino level onto DEBUG, INFO, WARNING and ERROR', () => {
    const { log, lines } = capture();
    log.trace('a trace');
    log.debug('a debug');
    log.info('an info');
    log.warn('a warning');
    log.error('an error');
    log.fatal('a fatal');
    expect(lines().map((l) => [l.level, l.message])).toEqual([
      ['DEBUG', 'a trace'],
      ['DEBUG', 'a debug'],
      ['INFO', 'an info'],
      ['WARNING', 'a warning'],
      ['ERROR', 'an error'],
      ['ERROR', 'a fatal'],
    ]);
  });

  it('puts the dialog keys in context, the rest in data, and the event in event_type', () => {
    const { log, lines } = capture();
    const dialog = { bot_id: 'bot-1', platform: 'telegram', chat_id: '42', workflow_id: 'dialog:bot-1:telegram:42' };
    log.info(
      { event: 'CONDITION_EVAL', ...dialog, user_id: 'u-7', scenario_id: 'sc-3', step: 'ask_guests', condition: 'guests > 8', result: true },
      'condition_evaluated',
    );
    log.info({ event: 'OUTGOING', ...dialog, step: 'welcome', message_ids: ['9'], text_length: 11 }, 'message sent');
    log.debug({ ...dialog, turn: 't-1' }, 'turn recorded');
    const [condition, outgoing, unnamed] = lines();
    expect(condition).toEqual({
      timestamp: condition.timestamp,
      level: 'INFO',
      event_type: 'CONDITION_EVAL',
      message: 'condition_evaluated',
      context: { ...dialog, user_id: 'u-7', scenario_id: 'sc-3' },
      data: { step: 'ask_guests', condition: 'guests > 8', result: true },
    });
    expect(outgoing).toMatchObject({ event_type: 'OUTGOING', context: dialog, data: { step: 'welcome', message_ids: ['9'], text_length: 11 } });
    expect(unnamed).toMatchObject({ level: 'DEBUG', event_type: 'DEBUG', context: dialog, data: { turn: 't-1' } });
  });

  it("moves a child logger's bindings into context and data, nested children included", () => {
    const { log, lines } = capture();
    const requestLog = log.child({ service: 'api' }).child({ request_id: 'req-1' });
    requestLog.info({ event: 'WEBHOOK', bot_id: 'bot-1', platform: 'slack', messages: 1 }, 'webhook handled');
    expect(lines()).toEqual([
      expect.objectContaining({
        event_type: 'WEBHOOK',
        context: { request_id: 'req-1', bot_id: 'bot-1', platform: 'slack' },
        data: { service: 'api', messages: 1 },
      }),
    ]);
  });

  it('carries an error as data.error with its type, message and stack; an ERROR line without an event is an ERROR event', () => {
    const { log, lines } = capture();
    class PlatformDown extends Error {}
    log.error({ err: new PlatformDown('telegram sendMessage: network error'), bot_id: 'bot-1' }, 'send failed');
    log.error(new TypeError('cannot read the row'));
    log.warn({ event: 'ERROR', error: 'send_failed: blocked' }, 'error');
    const [named, bare, message] = lines();
    expect(named).toMatchObject({ level: 'ERROR', event_type: 'ERROR', message: 'send failed', context: { bot_id: 'bot-1' } });
    expect(named.data).toEqual({
      error: { type: 'PlatformDown', message: 'telegram sendMessage: network error', stack: expect.stringContaining('log.test.ts') },
    });
    expect(bare).toMatchObject({
      level: 'ERROR',
      event_type: 'ERROR',
      message: 'cannot read the row',
      data: { error: { type: 'TypeError', message: 'cannot read the row' } },
    });
    expect((bare.data.error as { stack: string }).stack).toMatch(/^TypeError: cannot read the row\n\s+at /);
    expect(message.data).toEqual({ error: { message: 'send_failed: blocked' } });
  });

  it('never writes secrets, at any depth, and keeps the rest', () => {
    const { log, lines, text } = capture();
    const credentials = { token: '7000001:AAH-secret', app_secret: 'meta-secret' };
    log
      .child({ request_id: 'req-2' })
      .info(
        { event: 'DEBUG', bot_id: 'bot-1', request: { headers: { Authorization: 'Bearer jwt-secret' }, body: { credentials } }, kept: 'visible' },
        'hostile line',
      );
    for (const secret of ['AAH-secret', 'meta-secret', 'jwt-secret']) expect(text()).not.toContain(secret);
    const [line] = lines();
    expect(line.context).toEqual({ request_id: 'req-2', bot_id: 'bot-1' });
    expect(line.data).toEqual({ request: { headers: { Authorization: '[redacted]' }, body: { credentials: '[redacted]' } }, kept: 'visible' });
  });

  it("never writes secrets a child logger was bound with (bindings skip pino's log formatter)", () => {
    const { log, lines, text } = capture();
    log.child({ request_id: 'req-3', upstream: { authorization: 'Bearer bound-secret' } }).info({ event: 'DEBUG' }, 'bound line');
    expect(text()).not.toContain('bound-secret');
    expect(lines()[0].data).toEqual({ upstream: { authorization: '[redacted]' } });
  });

  it('writes nothing below its level', () => {
    const { log, lines } = capture('info');
    log.debug({ event: 'DEBUG' }, 'hidden');
    log.info({ event: 'STATE_CHANGE' }, 'shown');
    expect(lines().map((l) => l.message)).toEqual(['shown']);
  });

  it("writes the API's access and failure lines in the shape, with the request id in context", async () => {
    const { log, lines } = capture('info');
    const app = new Koa();
    app.use(requestId(log));
    app.use(errorEnvelope());
    app.use((ctx) => {
      if (ctx.path === '/broken') throw new Error('the database went away');
      ctx.body = { ok: true };
    });
    await request(app.callback()).get('/fine').set('X-Request-Id', 'req-fine').expect(200);
    await request(app.callback()).get('/broken').set('X-Request-Id', 'req-broken').expect(500);

    const [fine, failure, broken] = lines();
    expect(fine).toMatchObject({
      level: 'INFO',
      event_type: 'REQUEST',
      message: 'request',
      context: { request_id: 'req-fine' },
      data: { method: 'GET', path: '/fine', status: 200 },
    });
    expect(failure).toMatchObject({
      level: 'ERROR',
      event_type: 'ERROR',
      context: { request_id: 'req-broken' },
      data: { error: { type: 'Error', message: 'the database went away' } },
    });
    expect((failure.data.error as { stack: string }).stack).toContain('the database went away');
    expect(broken).toMatchObject({ event_type: 'REQUEST', context: { request_id: 'req-broken' }, data: { status: 500 } });
  });
});
