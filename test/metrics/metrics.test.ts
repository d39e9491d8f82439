import Koa from 'koa';
import request from 'supertest';
import type { Services } from '../../api/deps';
import { errorEnvelope } from '../../api/middleware';
import { metricsRoutes } from '../../api/routes/metrics';
import { activityDuration, observeSignal, platformLabel, registry, webhookDuration } from '../../src/metrics';
import { createTestDb, type TestDb } from '../support/stack';

describe('/metrics', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createTestDb('sqlite');
    const now = new Date().toISOString();
    await testDb.db('bots').insert({ id: 'b1', account_id: 'acme', name: 'metrics', settings: '{}', created_at: now, updated_at: now });
    const dialog = (chat: string, status: string) => ({
      bot_id: 'b1',
      platform: 'telegram',
      chat_id: chat,
      workflow_id: `dialog:b1:telegram:${chat}`,
      status,
      collected_data: '{}',
      started_at: now,
      last_interaction_at: now,
      updated_at: now,
    });
    await testDb.db('dialogs').insert([dialog('1', 'active'), dialog('2', 'active'), dialog('3', 'completed')]);
  });
  afterAll(() => testDb.drop());

  const appWith = (token?: string) => {
    const app = new Koa();
    app.use(errorEnvelope());
    const router = metricsRoutes({ db: testDb.db } as unknown as Services, { token });
    app.use(router.routes());
    return app.callback();
  };

  it('registers the product metrics and counts dialogs by status on scrape', async () => {
    webhookDuration.observe({ platform: 'telegram', status: '200' }, 0.01);
    activityDuration.observe({ activity: 'sendMessage', platform: 'telegram', outcome: 'ok' }, 0.02);
    await observeSignal('telegram', () => Promise.resolve());
    const res = await request(appWith()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    for (const name of [
      'getinn_webhook_duration_seconds',
      'getinn_signal_duration_seconds',
      'getinn_activity_duration_seconds',
      'getinn_activity_errors_total',
    ]) {
      expect(res.text).toContain(`# TYPE ${name}`);
    }
    expect(res.text).toContain('getinn_dialogs{status="active"} 2');
    expect(res.text).toContain('getinn_dialogs{status="completed"} 1');
    expect(res.text).toContain('getinn_dialogs{status="abandoned"} 0');
    expect(res.text).toContain('getinn_signal_duration_seconds_count{platform="telegram",outcome="ok"} 1');
    expect(await registry.getSingleMetricAsString('process_resident_memory_bytes')).toContain('process_resident_memory_bytes');
  });

  it('wants the bearer token when METRICS_TOKEN is set', async () => {
    const app = appWith('scrape-me');
    expect((await request(app).get('/metrics')).status).toBe(401);
    expect((await request(app).get('/metrics').set('Authorization', 'Bearer wrong')).status).toBe(401);
    expect((await request(app).get('/metrics').set('Authorization', 'Bearer scrape-me')).status).toBe(200);
  });

  it('labels only known platforms', () => {
    expect(platformLabel('telegram')).toBe('telegram');
    expect(platformLabel('<script>')).toBe('unknown');
    expect(platformLabel(undefined)).toBe('unknown');
  });
});
