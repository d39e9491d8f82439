import path from 'node:path';
import { loadConfig } from '../../src/config';
import { configProblems } from '../support/config';

const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

const problems = configProblems;

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig(base);
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.temporal).toEqual({ address: undefined, namespace: 'default', taskQueue: 'dialogs', cliPath: undefined });
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:3000');
    expect(config.apiBases).toEqual({
      telegram: 'https://api.telegram.org',
      whatsapp: 'https://graph.facebook.com/v21.0',
      messenger: 'https://graph.facebook.com/v21.0',
      slack: 'https://slack.com/api',
      discord: 'https://discord.com/api/v10',
    });
    expect(config.logLevel).toBe('info');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.clamdAddress).toBeUndefined();
    expect(config.workflowBundle).toBeUndefined();
  });

  it('takes a prebuilt workflow bundle by its absolute path', () => {
    expect(loadConfig({ ...base, WORKFLOW_BUNDLE: 'package.json' }).workflowBundle).toBe(path.resolve('package.json'));
  });

  it('accepts hex and base64 encryption keys of 32 bytes', () => {
    expect(loadConfig({ ...base, ENCRYPTION_KEY: 'ab'.repeat(32) }).encryptionKey).toEqual(Buffer.alloc(32, 0xab));
    expect(loadConfig(base).encryptionKey).toEqual(Buffer.alloc(32, 1));
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ TEMPORAL_ADDRESS: 'http://temporal' }, 'TEMPORAL_ADDRESS'],
    [{ TELEGRAM_API_BASE: 'api.telegram.org' }, 'TELEGRAM_API_BASE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ENCRYPTION_KEY: 'short' }, 'ENCRYPTION_KEY'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ CLAMD_ADDRESS: 'clamd' }, 'CLAMD_ADDRESS'],
    [{ WORKFLOW_BUNDLE: 'dist/no-such-bundle.js' }, 'WORKFLOW_BUNDLE'],
  ])('names the variable of a wrong value: %j', (env, name) => {
    const found = problems({ ...base, ...env });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('reports every wrong value at once, one line each', () => {
    const found = problems({ ...base, PORT: 'x', LOG_LEVEL: 'loud', SLACK_API_BASE: 'nope' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SLACK_API_BASE']);
  });

  it('requires the secrets in production', () => {
    const found = problems({ NODE_ENV: 'production' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['ENCRYPTION_KEY', 'JWT_SECRET']);
  });

  it('derives the public base URL from the port and trims trailing slashes', () => {
    expect(loadConfig({ ...base, PORT: '8080' }).publicBaseUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ ...base, PUBLIC_BASE_URL: 'https://bots.example.com/' }).publicBaseUrl).toBe('https://bots.example.com');
    expect(loadConfig({ ...base, TELEGRAM_API_BASE: 'http://127.0.0.1:9/' }).apiBases.telegram).toBe('http://127.0.0.1:9');
  });
});
