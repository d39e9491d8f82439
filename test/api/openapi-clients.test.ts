/**
 * The OpenAPI document works with the tools people point at it: Redocly's linter (recommended
 * rules, redocly.yaml) finds nothing, and openapi-typescript generates types that a client using a
 * few paths compiles against, with the platform credentials told apart by `platform`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Stack, startStack } from '../support/stack';
import { expectStatus } from './support';

const ROOT = path.resolve(__dirname, '..', '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
const run = promisify(execFile);

/** Runs a tool; its output is the failure message when it exits non-zero. */
async function tool(name: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(bin(name), args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off' } });
    return `${stdout}${stderr}`;
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

const CLIENT = `
import type { components, paths } from './api';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type CreateBot = Json<paths['/v1/accounts/{accountId}/bots']['post']['requestBody']>;
type Connect = Json<paths['/v1/bots/{botId}/platforms']['post']['requestBody']>;
type DeleteBotQuery = paths['/v1/bots/{botId}']['delete']['parameters']['query'];
type DialogUpdate = Json<paths['/v1/bots/{botId}/dialogs/{platform}/{chatId}']['put']['requestBody']>;
type Bot = components['schemas']['Bot'];
type ApiError = components['schemas']['Error'];

export const create: CreateBot = { name: 'Chez Anna', settings: { locale: 'fr', tables: [1, 2] } };
export const telegram: Connect = { platform: 'telegram', credentials: { token: '123:abc' } };
// @ts-expect-error Slack credentials are a bot token and a signing secret, not a Telegram token
export const wrongCredentials: Connect = { platform: 'slack', credentials: { token: '123:abc' } };
export const confirm: DeleteBotQuery = { confirm: 'true' };
export const update: DialogUpdate = { expected_version: 3, collected_data: { guests: 4, notes: null } };
export const botName = (bot: Bot): string => bot.name;
export const errorCode = (body: ApiError): string => body.error.code;
`;

describe('OpenAPI document for generated clients', () => {
  let stack: Stack;
  let dir: string;
  let document: string;

  beforeAll(async () => {
    stack = await startStack({ db: 'sqlite', worker: false });
    dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-clients-'));
    document = path.join(dir, 'openapi.json');
    writeFileSync(document, expectStatus(await stack.http.get('/v1/openapi.json'), 200).text);
  });
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has no reference outside the document, and names only docs that exist', async () => {
    const text = (await stack.http.get('/v1/openapi.json')).text;
    expect(text).not.toContain('#/$defs/');
    const docs = [...new Set(text.match(/docs\/[\w./-]+\.md/g) ?? [])];
    expect(docs.length).toBeGreaterThan(0);
    for (const page of docs) expect({ page, exists: existsSync(path.join(ROOT, page)) }).toEqual({ page, exists: true });
  });

  it('passes `redocly lint` with the recommended rules', async () => {
    const output = await tool('redocly', ['lint', document, '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'stylish']);
    expect(output).toContain('Your API description is valid');
  }, 60_000);

  it('generates TypeScript types with openapi-typescript that a typed client compiles against', async () => {
    await tool('openapi-typescript', [document, '--output', path.join(dir, 'api.ts')]);
    writeFileSync(path.join(dir, 'client.ts'), CLIENT);
    await tool('tsc', ['--noEmit', '--strict', '--target', 'ES2022', '--module', 'commonjs', '--types', 'node', path.join(dir, 'client.ts')]);
  }, 60_000);
});
