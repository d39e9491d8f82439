/**
 * Response shapes of the API, for the OpenAPI document. Request schemas live next to their routes.
 * A schema with `.meta({ id })` becomes a named entry of the document's `components/schemas`.
 */
import { z } from 'zod';
import { CONNECTION_STATUSES } from '../src/db/platform-status';
import type { Diagnostic } from '../src/engine/types';
import { DIALOG_PLATFORMS, PLATFORMS } from '../src/platforms/types';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Any JSON value; recursive, so the document names it once and refers to it. Its arrays are
 * declared as arrays of anything, which in a parsed JSON body is JSON again: an array of itself is
 * a type TypeScript cannot declare, and openapi-typescript's clients would not compile.
 */
export const jsonValue = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), jsonValue)]))
  .meta({ id: 'JsonValue' }) as unknown as z.ZodType<Json>;

/** `jsonValue` with a description of its own (describing `jsonValue` itself would copy it unnamed). */
export const describedJson = (description: string) => z.lazy(() => jsonValue).describe(description);

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe('snake_case'),
      message: z.string(),
      details: describedJson('what was wrong, when there is more to say; else null'),
    }),
  })
  .meta({ id: 'Error' });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int().min(0), limit: z.number().int().min(0), offset: z.number().int().min(0) });

export const platformName = z.enum(PLATFORMS);
/** A platform dialogs run on: the connectable ones and `console`, the operator console's test chat. */
export const dialogPlatformName = z.enum(DIALOG_PLATFORMS);
const timestamp = z.string().describe('ISO-8601 UTC');

/** A file part of a multipart/form-data body. */
export const uploadedFile = (description: string) => z.any().meta({ type: 'string', format: 'binary', minLength: 1, description });

/** Path parameters by name, the same in every route (`id` is any opaque resource id). */
export const pathParameters = {
  id: z.string().min(1).max(200),
  // One name in every path; a connection or webhook path answers 404 for `console` (never connected).
  platform: dialogPlatformName.describe('telegram, whatsapp, messenger, slack or discord; console too where the path is a dialog’s'),
  chatId: z.string().min(1).max(128).describe('the conversation id on the platform'),
};

export const botSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    name: z.string(),
    description: z.string(),
    status: z.enum(['active', 'inactive']),
    settings: z.record(z.string(), z.unknown()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Bot' });

const activeScenarioSummary = z.object({ id: z.string(), name: z.string(), version: z.number().int(), is_default: z.boolean() });

export const botWithStats = botSchema
  .extend({
    stats: z.object({
      platforms: z.array(platformName),
      active_scenario: activeScenarioSummary.nullable().describe('the default scenario: new dialogs start it'),
      active_scenarios: z.array(activeScenarioSummary).describe('every active scenario, the default first'),
      dialogs: z.record(z.string(), z.number().int()).describe('dialog counts by status'),
    }),
  })
  .meta({ id: 'BotWithStats' });

export const diagnosticSchema = z
  .object({
    path: z.string().describe('JSON pointer'),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
    message: z.string(),
    suggestion: z.string().optional(),
  })
  .meta({ id: 'Diagnostic' });

/** The contract's shape of a diagnostic in an error's `details`. */
export function diagnosticDetails(diagnostics: Diagnostic[]): z.infer<typeof diagnosticSchema>[] {
  return diagnostics.map((d) => ({
    path: d.path,
    line: d.line ?? null,
    column: d.column ?? null,
    message: d.message,
    ...(d.suggestion ? { suggestion: d.suggestion } : {}),
  }));
}

export const turnFailureSchema = z
  .object({
    conversation: z.string().describe('the conversation’s name'),
    turn: z.number().int().describe('the turn’s position in its conversation'),
    line: z.number().int().describe('where the turn is in the suite’s text'),
    column: z.number().int(),
    expected: z.string(),
    got: z.string(),
  })
  .meta({ id: 'ConversationTurnFailure' });

export const suiteResultSchema = z
  .object({
    valid: z.boolean().describe('false: the suite itself has problems (then no conversation ran)'),
    problems: z.array(diagnosticSchema).describe('what is wrong in the suite, with line and column in its text'),
    conversations: z.array(z.object({ name: z.string(), passed: z.boolean(), failures: z.array(turnFailureSchema) })),
    passed: z.number().int().min(0),
    failed: z.number().int().min(0),
    unvisited_steps: z.array(z.string()).describe('steps of the scenario no conversation entered'),
  })
  .meta({ id: 'SuiteResult' });

export const scenarioSuiteSchema = z
  .object({
    scenario_id: z.string(),
    suite: describedJson('the conversation test suite as stored (docs/scenario-format.md)'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'ScenarioTestSuite' });

export const scenarioSchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    name: z.string(),
    version: z.number().int(),
    is_active: z.boolean(),
    is_default: z.boolean().describe('the active scenario new dialogs start when no trigger matches'),
    scenario_data: z.record(z.string(), z.unknown()),
    warnings: z.array(diagnosticSchema),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Scenario' });

export const platformConnectionSchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    platform: platformName,
    status: z
      .enum(CONNECTION_STATUSES)
      .describe('from what the platform last answered: unverified (not asked yet), connected, unauthorized (credentials refused), error (3 failures in a row)'),
    last_error: z.string().nullable().describe('the platform’s last error, kept after a success'),
    last_error_at: timestamp.nullable(),
    status_checked_at: timestamp.nullable().describe('when a test, registration or send last set the status'),
    settings: z.record(z.string(), z.unknown()),
    webhook_registered: z.boolean().describe('whether the platform calls the webhook URL now, as registered through its API'),
    webhook_registered_at: timestamp.nullable(),
    key_id: z.string().describe('id of the encryption key that sealed the credentials'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'PlatformConnection' });

export const chatUserSchema = z
  .object({
    id: z.string().describe("the user's id on the platform"),
    name: z.string().optional().describe('display name, where the platform gives one (at most 256 characters)'),
    username: z.string().optional(),
    language: z.string().optional().describe("the language of the user's app, e.g. en or pt-BR"),
  })
  .meta({ id: 'ChatUser' });

export const dialogSchema = z
  .object({
    bot_id: z.string(),
    platform: dialogPlatformName,
    chat_id: z.string(),
    status: z.string(),
    current_step: z.string().nullable(),
    collected_data: z.record(z.string(), z.unknown()),
    scenario_id: z.string().nullable(),
    scenario_version: z.number().int().nullable(),
    version: z.number().int(),
    started_at: timestamp,
    last_interaction_at: timestamp,
    workflow_id: z.string(),
    user: chatUserSchema.nullable().describe('the chat user as the platform last described them; null until a message says'),
  })
  .meta({ id: 'Dialog' });

export const dialogListItemSchema = dialogSchema
  .extend({
    message_count: z.number().int().min(0).describe('rows of its transcript: user, bot and system messages'),
    duration_s: z.number().int().min(0).describe('seconds from started_at to last_interaction_at'),
  })
  .meta({ id: 'DialogListItem' });

export const historyItemSchema = z
  .object({
    id: z.string(),
    message_type: z.enum(['user', 'bot', 'system']),
    text: z.string().nullable(),
    payload: z.unknown(),
    step: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'HistoryItem' });

export const webhookStatusSchema = z
  .object({
    bot_id: z.string(),
    platform: platformName,
    last_event_at: timestamp.nullable(),
    counts: z.object({ received: z.number().int(), accepted: z.number().int(), rejected: z.number().int(), messages: z.number().int() }),
    last_error: z.object({ message: z.string(), at: timestamp }).nullable(),
  })
  .meta({ id: 'WebhookStatus' });

export const auditEntrySchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    actor: z.string(),
    role: z.string(),
    action: z.string().describe('METHOD and route pattern'),
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    request_id: z.string(),
    created_at: timestamp,
  })
  .meta({ id: 'AuditEntry' });
