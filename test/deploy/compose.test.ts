import { spawnSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { parseDuration } from '../../src/engine/durations';

/**
 * docker-compose.yml as Docker Compose itself reads it (`docker-compose config`, which needs no
 * engine), checked against what the deployment promises: only the API published, and on loopback;
 * secrets only from the env file; a healthcheck on everything that keeps running.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, like scripts/schemathesis-bin.js
const { findCompose } = require('../../scripts/compose-bin') as { findCompose: () => string | undefined };

const ROOT = path.resolve(__dirname, '..', '..');
const REQUIRED = ['POSTGRES_PASSWORD', 'BOT_ENGINE_DB_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET', 'ENCRYPTION_KEY', 'PUBLIC_BASE_URL', 'METRICS_TOKEN'];
const ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-superuser-secret',
  BOT_ENGINE_DB_PASSWORD: 'app-db-secret',
  REDIS_PASSWORD: 'redissecret0123',
  JWT_SECRET: 'jwt-secret-jwt-secret-jwt-secret-0123',
  ENCRYPTION_KEY: 'ab'.repeat(32),
  PUBLIC_BASE_URL: 'https://bots.example.com',
  METRICS_TOKEN: 'metrics-token-0123456789',
};
/** Names whose values are secrets: they may only be `${...}` references in the compose files. */
const SECRET_NAME = /PASSWORD|PWD|SECRET|TOKEN|_KEY$|_KEYS$|AUTH/;
const CLOUD_OVERRIDE = 'docker/temporal-cloud.yml';

interface Service {
  profiles?: string[];
  restart?: string;
  environment?: Record<string, string | null>;
  ports?: { target: number; published?: string; host_ip?: string }[];
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}
type Model = { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  let bin: string;
  let dir: string;

  beforeAll(() => {
    const found = findCompose();
    if (!found) throw new Error('Docker Compose is needed: install Python 3 (scripts/compose-bin.js pip-installs it into .tools/), or set COMPOSE_PATH.');
    bin = found;
    dir = mkdtempSync(path.join(os.tmpdir(), 'compose-test-'));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `docker-compose <args>` with exactly `env` in the env file and nothing from this process's environment. */
  const compose = (args: string[], env: Record<string, string>, files: string[] = ['docker-compose.yml']) => {
    const envFile = path.join(dir, `${Math.random().toString(36).slice(2)}.env`);
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([name, value]) => `${name}=${value}\n`)
        .join(''),
    );
    const result = spawnSync(bin, [...files.flatMap((file) => ['-f', file]), '--env-file', envFile, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: dir },
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const model = (env: Record<string, string> = ENV, options: { profiles?: string[]; files?: string[]; interpolate?: boolean } = {}): Model => {
    const args = [...(options.profiles ?? []).flatMap((profile) => ['--profile', profile]), 'config', '--format', 'json'];
    const result = compose(options.interpolate === false ? [...args, '--no-interpolate'] : args, env, options.files);
    if (result.status !== 0) throw new Error(`docker-compose config failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as Model;
  };
  const published = (m: Model) =>
    Object.fromEntries(
      Object.entries(m.services)
        .filter(([, s]) => s.ports?.length)
        .map(([name, s]) => [name, s.ports!.map((p) => `${p.host_ip}:${p.published}->${p.target}`)]),
    );

  it('is valid with the env file, and refuses to render without each required setting', () => {
    expect(compose(['config', '--quiet'], ENV)).toMatchObject({ status: 0, stderr: '' });
    for (const name of REQUIRED) {
      const { [name]: _left, ...rest } = ENV;
      const result = compose(['config', '--quiet'], rest);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`required variable ${name} is missing a value`);
    }
  });

  it('publishes only the API, on 127.0.0.1 unless API_BIND says otherwise; the UI only with its profile, on 127.0.0.1', () => {
    expect(published(model())).toEqual({ api: ['127.0.0.1:3000->3000'] });
    expect(published(model({ ...ENV, API_BIND: '0.0.0.0', API_PORT: '3000-3003' }))).toEqual({ api: ['0.0.0.0:3000-3003->3000'] });
    expect(published(model(ENV, { profiles: ['ui'] }))).toEqual({ api: ['127.0.0.1:3000->3000'], 'temporal-ui': ['127.0.0.1:8080->8080'] });
  });

  it('checks the health of every service that keeps running, and starts nothing on a merely started dependency', () => {
    for (const [name, service] of Object.entries(model(ENV, { profiles: ['ui'] }).services)) {
      const check = service.healthcheck?.disable ? 'disabled' : service.healthcheck?.test?.length ? 'checked' : 'none';
      if (service.restart !== 'no') expect({ name, check }).toEqual({ name, check: 'checked' });
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, condition }).toEqual({ name, dependency, condition: expect.stringMatching(/^service_(healthy|completed_successfully)$/) });
      }
    }
  });

  it('takes every secret from the env file and writes none into a URL it cannot escape', () => {
    for (const file of [['docker-compose.yml'], ['docker-compose.yml', CLOUD_OVERRIDE]]) {
      const raw = model({}, { profiles: ['ui'], files: file, interpolate: false });
      for (const [name, service] of Object.entries(raw.services)) {
        for (const [variable, value] of Object.entries(service.environment ?? {})) {
          if (!SECRET_NAME.test(variable) || !value) continue;
          expect({ name, variable, value }).toEqual({ name, variable, value: expect.stringMatching(/^\$\{[A-Z0-9_]+(:\?[^}]+|:-)\}$/) });
        }
        const env = service.environment ?? {};
        if (env.DATABASE_URL) expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[a-z]+@/);
        if (env.REDIS_URL) expect(env.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@/);
      }
    }
    const { services } = model();
    expect(services.postgresql.environment).toMatchObject({ POSTGRES_PASSWORD: ENV.POSTGRES_PASSWORD, BOT_ENGINE_DB_PASSWORD: ENV.BOT_ENGINE_DB_PASSWORD });
    expect(services.temporal.environment).toMatchObject({ POSTGRES_PWD: ENV.POSTGRES_PASSWORD });
    for (const name of ['api', 'worker', 'gateway', 'migrate']) {
      expect(services[name].environment).toMatchObject({
        PGPASSWORD: ENV.BOT_ENGINE_DB_PASSWORD,
        JWT_SECRET: ENV.JWT_SECRET,
        METRICS_TOKEN: ENV.METRICS_TOKEN,
      });
      expect(services[name].environment).not.toHaveProperty('POSTGRES_PASSWORD');
    }
    expect(readFileSync(path.join(ROOT, 'docker', 'postgres-init.sh'), 'utf8')).not.toMatch(/PASSWORD\s+'/i);
  });

  it('gives workers /health on WORKER_HTTP_PORT and longer than their shutdown grace to stop', () => {
    const { worker, api } = model().services;
    const env = worker.environment ?? {};
    expect(env.WORKER_HTTP_PORT).toMatch(/^\d+$/);
    expect(worker.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${env.WORKER_HTTP_PORT}/health`);
    expect(parseDuration(worker.stop_grace_period ?? '')).toBeGreaterThan(parseDuration(env.WORKER_SHUTDOWN_GRACE ?? '') ?? Infinity);
    expect(api.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${api.environment?.PORT}/health`);
  });

  it('runs on Temporal Cloud with docker/temporal-cloud.yml: no Temporal services, the address required', () => {
    const cloud = { ...ENV, TEMPORAL_ADDRESS: 'bots.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'bots.a1b2c', TEMPORAL_API_KEY: 'key-from-the-cloud-console' };
    const files = ['docker-compose.yml', CLOUD_OVERRIDE];
    const { services } = model(cloud, { files, profiles: ['ui'] });
    expect(Object.keys(services).sort()).toEqual(['api', 'gateway', 'migrate', 'postgresql', 'redis', 'worker']);
    for (const name of ['api', 'worker', 'gateway']) {
      expect(services[name].environment).toMatchObject({
        TEMPORAL_ADDRESS: cloud.TEMPORAL_ADDRESS,
        TEMPORAL_NAMESPACE: cloud.TEMPORAL_NAMESPACE,
        TEMPORAL_API_KEY: cloud.TEMPORAL_API_KEY,
      });
    }
    expect(published({ services })).toEqual({ api: ['127.0.0.1:3000->3000'] });
    const { TEMPORAL_ADDRESS: _address, ...withoutAddress } = cloud;
    expect(compose(['config', '--quiet'], withoutAddress, files).stderr).toContain('required variable TEMPORAL_ADDRESS is missing a value');
  });
});

describe('the image', () => {
  it('builds on Node 24 and runs as a non-root user, with a health check and node as the process', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*docker\/healthcheck\.mjs/m);
    expect(dockerfile).toMatch(/^CMD \["node", /m);
    expect(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.env', '.env.*', 'node_modules', '.git']));
  });
});

/** Whether a PostgreSQL SCRAM-SHA-256 verifier was made from `password` (RFC 5802; given in SASLprep's NFKC form). */
function scramMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const salted = pbkdf2Sync(password, Buffer.from(match[2], 'base64'), Number(match[1]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === match[3];
}

describe('docker/postgres-init.sh', () => {
  const adminUrl = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const user = `bot_engine_init_${process.pid}`;
  const injected = `bot_engine_injected_${process.pid}`;
  let admin: Client;
  beforeAll(async () => {
    admin = new Client({ connectionString: adminUrl.toString() });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${user}`);
    for (const role of [user, injected]) await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('creates the user with the password from the environment, exactly as given, whatever it holds', async () => {
    const password = `x'; CREATE ROLE ${injected}; --"$(id)\\ :'user' ü`;
    const result = spawnSync('sh', [path.join(ROOT, 'docker', 'postgres-init.sh')], {
      env: {
        PATH: process.env.PATH,
        PGHOST: adminUrl.hostname,
        PGPORT: adminUrl.port || '5432',
        PGPASSWORD: decodeURIComponent(adminUrl.password),
        POSTGRES_USER: decodeURIComponent(adminUrl.username),
        BOT_ENGINE_DB_USER: user,
        BOT_ENGINE_DB_PASSWORD: password,
      },
      encoding: 'utf8',
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const roles = await admin.query<{ rolname: string; rolpassword: string }>('SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [
      [user, injected],
    ]);
    expect(roles.rows.map((row) => row.rolname)).toEqual([user]);
    expect(scramMatches(roles.rows[0].rolpassword, password.normalize('NFKC'))).toBe(true);
    const owner = await admin.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [user]);
    expect(owner.rows).toEqual([{ owner: user }]);
  });
});
