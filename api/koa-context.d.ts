// What the API's middleware leave on a request for the ones after them, typed once for all of them.
import type { Bot } from '../src/db/bots';
import type { DialogKey } from '../src/db/dialogs';
import type { ScenarioRecord } from '../src/db/scenarios';
import type { Logger } from '../src/log';
import type { Claims } from './auth';

declare module 'koa' {
  interface DefaultState {
    /** Set by `requestId` (api/middleware.ts), the first middleware. */
    requestId: string;
    log: Logger;
    /** The exact request bytes, set by `body` (api/middleware.ts). */
    rawBody: Buffer;
    /** The token's payload as koa-jwt decoded it, before `requireToken` checks its claims. */
    jwt?: unknown;
    /** Set by `requireToken` on every request under `/v1` that needs a token. */
    claims?: Claims;
    /** The account a write touched, for the audit log. */
    accountId?: string;
    /** The path the audit log and the request log name instead of the real one (an erasure's). */
    auditPath?: string;
    /** What a route's first middleware found for the ones after it (after the rate limit, say). */
    dialogKey?: DialogKey;
    scenario?: ScenarioRecord;
    bot?: Bot;
  }

  interface DefaultContext {
    /** The matched route's path parameters (@koa/router). */
    params: Record<string, string>;
  }
}
