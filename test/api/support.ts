/**
 * Helpers of the API tests: a stack (real app, database and Temporal), tokens whose subject is new
 * for each call (rate limits count per subject, so tests do not share a budget), and a bot set up
 * through the API itself.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { signToken, type Role } from '../../api/auth';
import { bookingScenario } from '../dialog/scenarios';
import type { Stack } from '../support/stack';

export { bookingScenario };

export const TELEGRAM_TOKEN = '7000001:AAH-secret-telegram-token-value';

export function tokenFor(stack: Stack, role: Role = 'operator', accounts: string[] = ['acme'], sub = `user-${randomUUID()}`) {
  return { Authorization: `Bearer ${signToken(stack.config.jwtSecret, { sub, role, account_ids: accounts })}` };
}

export function expectStatus(res: Response, status: number): Response {
  const req = (res as unknown as { req?: { method: string; path: string } }).req;
  if (res.status !== status) throw new Error(`${req?.method} ${req?.path} answered ${res.status}, expected ${status}: ${res.text}`);
  return res;
}

export function expectError(res: Response, status: number, code?: string): Response {
  expectStatus(res, status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error).toMatchObject({ code: code ?? expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
  return res;
}

export interface TestBot {
  id: string;
  account: string;
  headers: Record<string, string>;
  scenarioId?: string;
}

/** A bot of `account`, with an active scenario and a Telegram connection when asked. */
export async function makeBot(
  stack: Stack,
  options: { account?: string; name?: string; scenario?: boolean; telegram?: boolean; headers?: Record<string, string> } = {},
): Promise<TestBot> {
  const account = options.account ?? 'acme';
  const headers = options.headers ?? tokenFor(stack, 'operator', [account]);
  const bot = expectStatus(
    await stack.http
      .post(`/v1/accounts/${account}/bots`)
      .set(headers)
      .send({ name: options.name ?? `bot-${randomUUID().slice(0, 8)}` }),
    201,
  ).body;
  const result: TestBot = { id: bot.id, account, headers };
  if (options.scenario) {
    const scenario = expectStatus(
      await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(headers).send({ name: 'main', scenario_data: bookingScenario }),
      201,
    ).body;
    expectStatus(await stack.http.post(`/v1/scenarios/${scenario.id}/activate`).set(headers).send({ active: true }), 200);
    result.scenarioId = scenario.id;
  }
  if (options.telegram) {
    expectStatus(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(headers)
        .send({ platform: 'telegram', credentials: { token: TELEGRAM_TOKEN } }),
      201,
    );
  }
  return result;
}

/** A dialog row as the worker's activities would write it (tests without a worker). */
export function dialogRow(botId: string, chatId: string, overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    bot_id: botId,
    platform: 'telegram' as const,
    chat_id: chatId,
    workflow_id: `dialog:${botId}:telegram:${chatId}`,
    status: 'active' as const,
    current_step: 'ask_name',
    collected_data: {},
    scenario_id: null as string | null,
    scenario_version: 1,
    version: 1,
    started_at: now,
    last_interaction_at: now,
    user: null as { id: string; name?: string } | null,
    ...overrides,
  };
}
