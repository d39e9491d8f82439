/**
 * Response shapes of the API, for the OpenAPI document. Request schemas live next to their routes.
 */
import { z } from 'zod';
import { PLATFORMS } from '../src/platforms/types';

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().nullable() }),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

export const platformName = z.enum(PLATFORMS);
const timestamp = z.string().describe('ISO-8601 UTC');

export const botSchema = z.object({
  id: z.string(),
  account_id: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(['active', 'inactive']),
  settings: z.record(z.string(), z.unknown()),
  created_at: timestamp,
  updated_at: timestamp,
});

export const botWithStats = botSchema.extend({
  stats: z.object({
    platforms: z.array(platformName),
    active_scenario: z.object({ id: z.string(), name: z.string(), version: z.number().int() }).nullable(),
    dialogs: z.record(z.string(), z.number().int()).describe('dialog counts by status'),
  }),
});

export const diagnosticSchema = z.object({
  path: z.string().describe('JSON pointer'),
  line: z.number().int().nullable(),
  column: z.number().int().nullable(),
  message: z.string(),
  suggestion: z.string().optional(),
});

export const scenarioSchema = z.object({
  id: z.string(),
  bot_id: z.string(),
  name: z.string(),
  version: z.number().int(),
  is_active: z.boolean(),
  scenario_data: z.record(z.string(), z.unknown()),
  warnings: z.array(diagnosticSchema),
  created_at: timestamp,
  updated_at: timestamp,
});

export const platformConnectionSchema = z.object({
  id: z.string(),
  bot_id: z.string(),
  platform: platformName,
  status: z.string(),
  settings: z.record(z.string(), z.unknown()),
  webhook_registered: z.boolean(),
  key_id: z.string().describe('id of the encryption key that sealed the credentials'),
  created_at: timestamp,
  updated_at: timestamp,
});

export const dialogSchema = z.object({
  bot_id: z.string(),
  platform: platformName,
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
});

export const historyItemSchema = z.object({
  id: z.string(),
  message_type: z.enum(['user', 'bot', 'system']),
  text: z.string().nullable(),
  payload: z.unknown(),
  step: z.string().nullable(),
  created_at: timestamp,
});

export const webhookStatusSchema = z.object({
  bot_id: z.string(),
  platform: platformName,
  last_event_at: timestamp.nullable(),
  counts: z.object({ received: z.number().int(), accepted: z.number().int(), rejected: z.number().int(), messages: z.number().int() }),
  last_error: z.object({ message: z.string(), at: timestamp }).nullable(),
});

export const auditEntrySchema = z.object({
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
});
