/**
 * The hostile tenant against the storage layer: credentials moved between rows, a dialog naming
 * another bot's scenario, secrets nested deep in a log line. Real databases, both kinds.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import { DecryptionError, keyId } from '../../src/crypto';
import { bindingOf, platformsRepository } from '../../src/db/platforms';
import { createLogger } from '../../src/log';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { expectStatus, makeBot, TELEGRAM_TOKEN } from '../api/support';
import { DB_KINDS, type Stack, startStack } from '../support/stack';

describe.each(DB_KINDS)('tenancy on %s', (dbKind) => {
  let stack: Stack;
  let tg: FakeTelegram;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, worker: false, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  const repository = () => platformsRepository(stack.db, { current: stack.config.encryptionKey });

  it('credentials copied into another bot row do not open there', async () => {
    const victim = await makeBot(stack, { telegram: true });
    const attacker = await makeBot(stack, { account: 'other', telegram: true });
    const stolen = (await stack.db('platform_connections').where({ bot_id: victim.id }).first()).credentials_sealed;
    await stack.db('platform_connections').where({ bot_id: attacker.id }).update({ credentials_sealed: stolen });
    await expect(repository().secrets(attacker.id, 'telegram')).rejects.toThrow(DecryptionError);
    expect((await repository().secrets(victim.id, 'telegram'))?.credentials).toEqual({ token: TELEGRAM_TOKEN });
  });

  it('a webhook secret moved into another row does not verify there', async () => {
    const victim = await makeBot(stack, { telegram: true, scenario: true });
    const attacker = await makeBot(stack, { telegram: true, scenario: true });
    for (const bot of [victim, attacker]) expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/webhook`).set(bot.headers), 200);
    const row = await stack.db('platform_connections').where({ bot_id: victim.id }).first();
    await stack.db('platform_connections').where({ bot_id: attacker.id }).update({ webhook_secret_sealed: row.webhook_secret_sealed });
    const secret = (await repository().secrets(victim.id, 'telegram'))?.webhookSecret as string;
    const update = telegramUpdate({ updateId: 1, chatId: 9, text: 'hi', secret });
    const answer = await stack.http.post(`/v1/webhooks/telegram/${attacker.id}`).set(update.headers).send(update.body);
    // The row cannot be opened: a server fault, not a verified delivery; nothing of the secret shows.
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('internal_error');
    expect(answer.text).not.toContain(secret);
    await expect(stack.temporal.workflow.getHandle(`dialog:${attacker.id}:telegram:9`).describe()).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });
  });

  it('a value sealed before bindings is bound to its row on first read', async () => {
    const bot = await makeBot(stack, { telegram: true });
    const key = stack.config.encryptionKey;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ token: TELEGRAM_TOKEN }), 'utf8'), cipher.final()]);
    const legacy = ['v1', keyId(key), ...[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))].join('.');
    await stack.db('platform_connections').where({ bot_id: bot.id }).update({ credentials_sealed: legacy });

    expect((await repository().secrets(bot.id, 'telegram'))?.credentials).toEqual({ token: TELEGRAM_TOKEN });
    const upgraded = (await stack.db('platform_connections').where({ bot_id: bot.id }).first()).credentials_sealed as string;
    expect(upgraded.startsWith('v2.')).toBe(true);
    expect(bindingOf(bot.id, 'telegram', 'credentials')).toContain(bot.id);
    expect((await repository().secrets(bot.id, 'telegram'))?.credentials).toEqual({ token: TELEGRAM_TOKEN });
  });

  it("a dialog never loads another bot's scenario, even when its input names it", async () => {
    const victim = await makeBot(stack, { scenario: true });
    const attacker = await makeBot(stack, { account: 'other', scenario: true });
    const activities = createActivities({ db: stack.db, config: stack.config, log: createLogger('silent') });
    expect(await activities.loadScenario({ botId: attacker.id, scenarioId: victim.scenarioId })).toBeNull();
    // Cached from the victim's own load first: still refused to the other bot.
    expect((await activities.loadScenario({ botId: victim.id, scenarioId: victim.scenarioId }))?.id).toBe(victim.scenarioId);
    expect(await activities.loadScenario({ botId: attacker.id, scenarioId: victim.scenarioId })).toBeNull();
    expect((await activities.loadScenario({ botId: attacker.id }))?.id).toBe(attacker.scenarioId);
  });
});

describe('log redaction', () => {
  it('censors secret-named keys at any depth and keeps the rest', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const nested = { deeper: { headers: { Authorization: 'Bearer jwt-secret' }, list: [{ app_secret: 'meta-secret' }], ok: 'visible' } };
    const shared = { note: 'same object twice' };
    log.info({ event: 'DEBUG', request: { body: { credentials: { token: 'tg-secret' } }, nested }, when: new Date(0), a: shared, b: shared }, 'hostile line');
    const line = lines.join('');
    for (const secret of ['jwt-secret', 'meta-secret', 'tg-secret']) expect(line).not.toContain(secret);
    const { data } = JSON.parse(line);
    expect(data.request.nested.deeper.ok).toBe('visible');
    expect(data.request.nested.deeper.headers.Authorization).toBe('[redacted]');
    expect(data.when).toBe('1970-01-01T00:00:00.000Z');
    expect(data.b).toEqual({ note: 'same object twice' });
  });

  it('cuts cycles instead of looping', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    log.info({ loop }, 'cycle');
    // Cut by pino's serializer before the line is censored, under its own marker.
    expect(JSON.parse(lines[0]).data.loop).toEqual({ name: 'loop', self: '[Circular]' });
  });
});
