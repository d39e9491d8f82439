/**
 * The codec endpoint (`/v1/codec/decode`, `/v1/codec/encode`) as the Temporal UI and CLI call it:
 * admin tokens only, CORS for the configured UI origin and no other, and real payloads of the
 * workers' codec.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { type App, createApp } from '../../api/app';
import { signToken, type Role } from '../../api/auth';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { connectClient } from '../../src/temporal';
import { EncryptionCodec } from '../../src/temporal/codec';
import { createTestDb, type TestDb, testConfig } from '../support/stack';
import { expectError } from './support';

const UI = 'http://127.0.0.1:8233';
const key = { id: 'k2026', key: Buffer.alloc(32, 5) };
const guest = { text: 'Table for Zelda Quux, +1 555 0100' };

const json = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});
const valueOf = (payload: { metadata: Record<string, string>; data: string }) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data, 'base64'),
  });

describe('the codec endpoint', () => {
  let testDb: TestDb;
  let config: Config;
  let app: App;
  let http: TestAgent;
  let closeTemporal: () => Promise<void>;
  const auth = (role: Role) => ({ Authorization: `Bearer ${signToken(config.jwtSecret, { sub: `codec-${role}`, role, account_ids: ['acme'] })}` });

  beforeAll(async () => {
    testDb = await createTestDb('sqlite');
    config = testConfig();
    config.payloadKeys = { current: key, previous: [] };
    config.temporal.uiOrigin = UI;
    const temporal = await connectClient(config);
    closeTemporal = () => temporal.connection.close();
    app = createApp({ db: testDb.db, config, log: createLogger('silent'), temporal });
    http = request(app.callback());
  });
  afterAll(async () => {
    await app?.drain();
    await closeTemporal?.();
    await testDb?.drop();
  });

  const sealed = async () => json((await new EncryptionCodec({ current: key, previous: [] }).encode([defaultPayloadConverter.toPayload(guest)]))[0]);

  it('needs a token, and an admin one: a payload does not say whose it is', async () => {
    const body = { payloads: [await sealed()] };
    for (const direction of ['decode', 'encode']) {
      expectError(await http.post(`/v1/codec/${direction}`).send(body), 401, 'unauthorized');
      expectError(await http.post(`/v1/codec/${direction}`).set(auth('operator')).send(body), 403, 'forbidden');
      expectError(await http.post(`/v1/codec/${direction}`).set(auth('viewer')).send(body), 403, 'forbidden');
    }
  });

  it('decodes a payload the workers encrypted, and passes a plain one through', async () => {
    const plain = json(defaultPayloadConverter.toPayload({ step: 'ask_name' }));
    const res = await http
      .post('/v1/codec/decode')
      .set(auth('admin'))
      .send({ payloads: [await sealed(), plain] });
    expect(res.status).toBe(200);
    expect(res.body.payloads).toHaveLength(2);
    expect(valueOf(res.body.payloads[0])).toEqual(guest);
    expect(res.body.payloads[1]).toEqual(plain);
  });

  it('encodes as the workers do: what it returns decodes again, and holds none of the text', async () => {
    const res = await http
      .post('/v1/codec/encode')
      .set(auth('admin'))
      .send({ payloads: [json(defaultPayloadConverter.toPayload(guest))] });
    expect(res.status).toBe(200);
    const [encrypted] = res.body.payloads;
    expect(Buffer.from(encrypted.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted.data, 'base64').toString('latin1')).not.toContain('Zelda');
    const decoded = await http.post('/v1/codec/decode').set(auth('admin')).send(res.body);
    expect(valueOf(decoded.body.payloads[0])).toEqual(guest);
  });

  it('answers 422 for a payload of a key it does not have, and 400 or 415 for malformed requests', async () => {
    const foreign = json(
      (await new EncryptionCodec({ current: { id: 'other', key: Buffer.alloc(32, 6) }, previous: [] }).encode([defaultPayloadConverter.toPayload(guest)]))[0],
    );
    const res = expectError(
      await http
        .post('/v1/codec/decode')
        .set(auth('admin'))
        .send({ payloads: [foreign] }),
      422,
      'payload_not_decryptable',
    );
    expect(res.body.error.message).toMatch(/key id "other", which is not configured/);
    expectError(
      await http
        .post('/v1/codec/decode')
        .set(auth('admin'))
        .send({ payloads: [{ data: 'not base64!' }] }),
      400,
      'invalid_request',
    );
    expectError(await http.post('/v1/codec/decode').set(auth('admin')).send({}), 400, 'invalid_request');
    expectError(await http.post('/v1/codec/decode').set(auth('admin')).set('Content-Type', 'text/plain').send('payloads'), 415);
  });

  it('answers the Temporal UI’s preflight, and gives CORS headers to that origin only', async () => {
    const preflight = await http
      .options('/v1/codec/decode')
      .set('Origin', UI)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type,x-namespace');
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, authorization, x-namespace',
    });
    expect(preflight.headers.vary).toMatch(/Origin/);

    const body = { payloads: [await sealed()] };
    const fromUi = await http.post('/v1/codec/decode').set('Origin', UI).set('X-Namespace', 'default').set(auth('admin')).send(body);
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers['access-control-allow-origin']).toBe(UI);
    // The UI can read a refusal too.
    expect((await http.post('/v1/codec/decode').set('Origin', UI).send(body)).headers['access-control-allow-origin']).toBe(UI);

    for (const origin of ['http://evil.example', 'http://127.0.0.1:8234', 'null']) {
      const other = await http.options('/v1/codec/decode').set('Origin', origin).set('Access-Control-Request-Method', 'POST');
      expect(other.status).toBe(401);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const post = await http.post('/v1/codec/decode').set('Origin', origin).set(auth('admin')).send(body);
      expect(post.status).toBe(200);
      expect(post.headers['access-control-allow-origin']).toBeUndefined();
      expect(post.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('gives no CORS headers anywhere else', async () => {
    const res = await http.options('/v1/accounts/acme/bots').set('Origin', UI).set('Access-Control-Request-Method', 'GET');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('is described in the OpenAPI document', async () => {
    const document = (await http.get('/v1/openapi.json')).body;
    expect(Object.keys(document.paths['/v1/codec/decode'])).toEqual(['post']);
    expect(Object.keys(document.paths['/v1/codec/encode'])).toEqual(['post']);
  });
});
