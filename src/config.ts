import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { S3Settings } from './media/s3';

/** Where the embedded stack keeps its data (SQLite file, Temporal dev server database, dev secrets, media). */
export const DATA_DIR = path.resolve(process.env.DATA_DIR ?? 'data');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const url = (what: string) =>
  z.string().refine((v) => /^https?:\/\/[^\s/]+/.test(v), `expected an http(s) URL (${what})`);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).optional(),
  PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL (unset for the embedded database)')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port of a Temporal frontend, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('dialogs'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  WORKFLOW_BUNDLE: z
    .string()
    .refine((file) => existsSync(file), 'no such file (build it with `npm run build:workflows`, or unset to bundle at start)')
    .optional(),
  JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  ENCRYPTION_KEY: z.string().optional(),
  PUBLIC_BASE_URL: url('base of webhook URLs').optional(),
  TELEGRAM_API_BASE: url('Telegram Bot API base').default('https://api.telegram.org'),
  WHATSAPP_API_BASE: url('WhatsApp Cloud API base').default('https://graph.facebook.com/v21.0'),
  MESSENGER_API_BASE: url('Messenger Send API base').default('https://graph.facebook.com/v21.0'),
  SLACK_API_BASE: url('Slack Web API base').default('https://slack.com/api'),
  DISCORD_API_BASE: url('Discord REST base').default('https://discord.com/api/v10'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  MEDIA_DIR: z.string().min(1).optional(),
  MEDIA_QUOTA_BYTES: z.coerce.number({ error: 'expected a number of bytes' }).int().min(1).default(1024 ** 3),
  CLAMD_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port of a clamd daemon')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// URL (unset: rate limits counted in process memory)')
    .optional(),
  METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a bucket name: 3-63 lower-case letters, digits, dots and hyphens (unset: media in MEDIA_DIR)')
    .optional(),
  S3_ENDPOINT: url('S3-compatible endpoint, e.g. http://127.0.0.1:9000 for MinIO').optional(),
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'expected a region name, e.g. us-east-1 (R2: auto)')
    .default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_PUBLIC_URL: url('public base of bucket objects').optional(),
  HTTP_REQUEST_ALLOWED_HOSTS: z.string().optional(),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  databaseUrl?: string;
  temporal: { address?: string; namespace: string; taskQueue: string; cliPath?: string };
  /** The dialog workflows prebuilt by `npm run build:workflows`; unset, the worker bundles them as it starts. */
  workflowBundle?: string;
  jwtSecret: string;
  /** 32-byte AES-256-GCM key and its id (first 8 hex chars of its SHA-256), for rotation. */
  encryptionKey: Buffer;
  publicBaseUrl: string;
  apiBases: { telegram: string; whatsapp: string; messenger: string; slack: string; discord: string };
  logLevel: (typeof LOG_LEVELS)[number];
  mediaDir: string;
  /** The most bytes of media files (uploads and files users sent) one bot may keep. */
  mediaQuotaBytes: number;
  clamdAddress?: string;
  /** Shared store of rate-limit counters; unset = each API process counts in its own memory. */
  redisUrl?: string;
  /** Bearer token that `/metrics` requires when set. */
  metricsToken?: string;
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
 * A comma list of hosts in the form `URL.hostname` gives them (lower case, IPv6 in brackets,
 * IPv4 in dotted decimal), so they compare equal to the hostname of a URL.
 */
function parseHosts(value: string | undefined): { hosts: string[]; invalid: string[] } {
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)) {
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

/** Secrets `npm start` generates once for development, so tokens survive restarts. */
function devSecrets(): { JWT_SECRET: string; ENCRYPTION_KEY: string } {
  const file = path.join(DATA_DIR, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
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
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
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
    problems.push(`${e.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}: required with ${e.S3_ACCESS_KEY_ID ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'} (or unset both for the SDK's default credentials)`);
  }
  if (!e.S3_BUCKET) {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_PUBLIC_URL'] as const) {
      if (e[name]) problems.push(`${name}: set S3_BUCKET too (without it media stay in MEDIA_DIR)`);
    }
  }
  const allowedHosts = parseHosts(e.HTTP_REQUEST_ALLOWED_HOSTS);
  if (allowedHosts.invalid.length > 0) {
    problems.push(`HTTP_REQUEST_ALLOWED_HOSTS: expected host names or addresses without scheme, port or path, separated by commas (not ${allowedHosts.invalid.join(', ')})`);
  }
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
    },
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
    logLevel: e.LOG_LEVEL,
    mediaDir: path.resolve(e.MEDIA_DIR ?? path.join(DATA_DIR, 'media')),
    mediaQuotaBytes: e.MEDIA_QUOTA_BYTES,
    clamdAddress: e.CLAMD_ADDRESS,
    redisUrl: e.REDIS_URL,
    metricsToken: e.METRICS_TOKEN,
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
