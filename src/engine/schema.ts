/**
 * The shape of a scenario file (CONTRACT.md §3), as zod schemas. Graph and content checks that need
 * the whole document live in validate.ts. Objects are strict: an unknown key is almost always a typo
 * ("nex_step") that would otherwise silently change the flow.
 */
import { z } from 'zod';
import {
  BUILT_IN_COMMANDS,
  COMMAND_PATTERN,
  MAX_COMMAND_NAME_LENGTH,
  MAX_KEYWORD_CHARACTERS,
  MAX_KEYWORD_WORDS,
  MAX_TRIGGER_COMMANDS,
  MAX_TRIGGER_KEYWORDS,
  wordsOf,
} from './triggers';

const json = z.json();
/** WhatsApp takes more, but a template's body holds 1024 characters: a few parameters fill it. */
const MAX_TEMPLATE_PARAMETERS = 20;
const nonEmpty = z.string().min(1, 'must not be empty');
const stepReference = nonEmpty;
/** Variable names are plain words: templates read `a.b` as key b inside variable a. */
const variableName = z.string().regex(/^[\p{L}_][\p{L}\p{N}_]*$/u, 'must be a name of letters, digits and "_" (no dots or spaces), such as "user_name"');

export const buttonSchema = z.strictObject({ text: nonEmpty, value: nonEmpty });

export const mediaItemSchema = z
  .strictObject({
    type: z.enum(['image', 'video', 'audio', 'document']),
    media_id: nonEmpty.optional(),
    url: nonEmpty.optional(),
    caption: z.string().optional(),
  })
  .refine((item) => (item.media_id === undefined) !== (item.url === undefined), {
    message: 'a media item needs exactly one of "media_id" or "url"',
  });

export const messageContentSchema = z.strictObject({
  text: z.string().optional(),
  format: z.enum(['plain', 'markdown']).optional(),
  media: z.array(mediaItemSchema).optional(),
});

/** A time as `time` answers are stored: "HH:MM", 24-hour. */
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** `min_value`/`max_value` are numbers, except for `time` answers, where they are "HH:MM" times. */
function checkBounds(rules: { type: string; min_value?: number | string; max_value?: number | string }, context: z.core.$RefinementCtx): void {
  for (const key of ['min_value', 'max_value'] as const) {
    const bound = rules[key];
    if (bound === undefined) continue;
    if (rules.type === 'time' && (typeof bound !== 'string' || !CLOCK_TIME.test(bound))) {
      context.addIssue({ code: 'custom', path: [key], message: `"${key}" of a time answer must be a time written "HH:MM" (24-hour), such as "18:30"` });
    } else if (rules.type !== 'time' && typeof bound !== 'number') {
      context.addIssue({ code: 'custom', path: [key], message: `"${key}" must be a number (a "HH:MM" time bounds only answers of type "time")` });
    }
  }
}

export const expectedInputSchema = z
  .strictObject({
    type: z.enum(['text', 'number', 'button', 'date', 'time', 'email', 'phone', 'media', 'any']),
    variable: variableName.optional(),
    required: z.boolean().optional(),
    min_length: z.int().min(0).optional(),
    max_length: z.int().min(1).optional(),
    pattern: z.string().optional(),
    min_value: z.union([z.number(), z.string()]).optional(),
    max_value: z.union([z.number(), z.string()]).optional(),
    error_message: z.string().optional(),
    max_attempts: z.int().min(1).optional(),
    default_country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as "GB"')
      .optional(),
  })
  .superRefine(checkBounds);

export const timeoutSchema = z.strictObject({
  after: z.string(),
  action: z.enum(['remind', 'reset', 'abandon', 'goto']),
  message: z.string().optional(),
  max_reminders: z.int().min(0).optional(),
  then: z.enum(['abandon', 'reset', 'goto', 'none']).optional(),
  step: stepReference.optional(),
});

/** Meta's rules for template names and language codes; a wrong one is refused by WhatsApp only at the send. */
export const whatsappTemplateSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be the template\'s name as approved: lowercase letters, digits and "_"'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code as WhatsApp writes it, such as "en" or "en_US"'),
  parameters: z.array(z.string()).max(MAX_TEMPLATE_PARAMETERS, `at most ${MAX_TEMPLATE_PARAMETERS} parameters`).optional(),
});

const httpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export const actionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('set_variable'), variable: variableName, value: json }),
  z.strictObject({
    type: z.literal('http_request'),
    method: httpMethod.optional(),
    url: nonEmpty,
    headers: z.record(z.string(), z.string()).optional(),
    body: json.optional(),
    variable: variableName,
    timeout_ms: z.int().min(1).max(300_000).optional(),
    on_error_step: stepReference.optional(),
  }),
  z.strictObject({ type: z.literal('handoff'), reason: z.string().optional() }),
  z.strictObject({ type: z.literal('end') }),
]);

const stepBase = {
  id: nonEmpty.optional(),
  message: messageContentSchema.optional(),
  buttons: z.array(buttonSchema).optional(),
  expected_input: expectedInputSchema.optional(),
  conditions: z.array(z.strictObject({ condition: z.string(), next_step: stepReference })).optional(),
  next_step: stepReference.nullable().optional(),
  checkpoint: z.boolean().optional(),
  timeout: timeoutSchema.optional(),
  whatsapp_template: whatsappTemplateSchema.optional(),
};

export const stepSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...stepBase, type: z.literal('message') }),
  z.strictObject({
    ...stepBase,
    type: z.literal('conditional_message'),
    variants: z.array(z.strictObject({ condition: z.string(), message: messageContentSchema, buttons: z.array(buttonSchema).optional() })),
    default_message: messageContentSchema.optional(),
  }),
  z.strictObject({ ...stepBase, type: z.literal('action'), action: actionSchema }),
]);

const triggerCommand = z
  .string()
  .regex(COMMAND_PATTERN, `must be "/" and 1 to ${MAX_COMMAND_NAME_LENGTH} letters, digits or "_", such as "/menu"`)
  .refine((command) => !BUILT_IN_COMMANDS.includes(command.slice(1).toLowerCase()), 'is a built-in command (/start, /help, /reset); choose another name');
const triggerKeyword = z
  .string()
  .max(MAX_KEYWORD_CHARACTERS, `must be at most ${MAX_KEYWORD_CHARACTERS} characters`)
  .refine((keyword) => wordsOf(keyword).length > 0, 'must contain a word (letters or digits)')
  .refine((keyword) => wordsOf(keyword).length <= MAX_KEYWORD_WORDS, `must be at most ${MAX_KEYWORD_WORDS} words`);

export const triggersSchema = z.strictObject({
  commands: z.array(triggerCommand).max(MAX_TRIGGER_COMMANDS, `at most ${MAX_TRIGGER_COMMANDS} commands`).optional(),
  keywords: z.array(triggerKeyword).max(MAX_TRIGGER_KEYWORDS, `at most ${MAX_TRIGGER_KEYWORDS} keywords`).optional(),
});

export const variableSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'object', 'array', 'date']),
  default: json.optional(),
  description: z.string().optional(),
});

/** The documents the product spec shows have no `version` or `start_step`; validate.ts fills them in. */
export const scenarioSchema = z.strictObject({
  version: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  /** The author's own notes (the spec's "metadata"): stored and exported, never read by the engine. */
  metadata: z.record(z.string(), json).optional(),
  start_step: nonEmpty.optional(),
  variables: z.record(variableName, variableSchema).optional(),
  settings: z
    .strictObject({
      max_auto_transitions: z.int().min(1).max(1000).optional(),
      help_message: z.string().optional(),
      timeout: timeoutSchema.optional(),
      triggers: triggersSchema.optional(),
    })
    .optional(),
  steps: z.record(z.string(), stepSchema),
});

interface SchemaDefinition {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}

function definition(schema: z.ZodType): SchemaDefinition {
  return (schema as unknown as { _zod: { def: SchemaDefinition } })._zod.def;
}

/** The schemas that can sit at a path (several below a union), optional wrappers removed. */
function schemasAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  const def = definition(schema);
  if (def.type === 'optional' || def.type === 'nullable') return schemasAt(def.innerType!, path);
  if (def.type === 'union') return def.options!.flatMap((option) => schemasAt(option, path));
  if (path.length === 0) return [schema];
  const [segment, ...rest] = path;
  if (def.type === 'object') {
    const child = def.shape?.[String(segment)];
    return child ? schemasAt(child, rest) : [];
  }
  if (def.type === 'record') return schemasAt(def.valueType!, rest);
  if (def.type === 'array') return schemasAt(def.element!, rest);
  return [];
}

/** The keys an object at this path of a scenario may have, for "did you mean …?" on unknown keys. */
export function keysAt(path: readonly (string | number)[]): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(scenarioSchema, path)) {
    const def = definition(schema);
    if (def.type === 'object') for (const key of Object.keys(def.shape ?? {})) keys.add(key);
  }
  return [...keys];
}
