/**
 * The shape of a scenario file (CONTRACT.md §3), as zod schemas. Graph and content checks that need
 * the whole document live in validate.ts. Objects are strict: an unknown key is almost always a typo
 * ("nex_step") that would otherwise silently change the flow.
 */
import { z } from 'zod';

const json = z.json();
const nonEmpty = z.string().min(1, 'must not be empty');
const stepReference = nonEmpty;
/** Variable names are plain words: templates read `a.b` as key b inside variable a. */
const variableName = z
  .string()
  .regex(/^[\p{L}_][\p{L}\p{N}_]*$/u, 'must be a name of letters, digits and "_" (no dots or spaces), such as "user_name"');

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
  media: z.array(mediaItemSchema).optional(),
});

export const expectedInputSchema = z.strictObject({
  type: z.enum(['text', 'number', 'button', 'date', 'email', 'phone', 'media', 'any']),
  variable: variableName.optional(),
  required: z.boolean().optional(),
  min_length: z.int().min(0).optional(),
  max_length: z.int().min(1).optional(),
  pattern: z.string().optional(),
  min_value: z.number().optional(),
  max_value: z.number().optional(),
  error_message: z.string().optional(),
  max_attempts: z.int().min(1).optional(),
  default_country: z.string().regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as "GB"').optional(),
});

export const timeoutSchema = z.strictObject({
  after: z.string(),
  action: z.enum(['remind', 'reset', 'abandon', 'goto']),
  message: z.string().optional(),
  max_reminders: z.int().min(0).optional(),
  then: z.enum(['abandon', 'reset', 'goto', 'none']).optional(),
  step: stepReference.optional(),
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
};

export const stepSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...stepBase, type: z.literal('message') }),
  z.strictObject({
    ...stepBase,
    type: z.literal('conditional_message'),
    variants: z.array(
      z.strictObject({ condition: z.string(), message: messageContentSchema, buttons: z.array(buttonSchema).optional() }),
    ),
    default_message: messageContentSchema.optional(),
  }),
  z.strictObject({ ...stepBase, type: z.literal('action'), action: actionSchema }),
]);

export const variableSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'object', 'array', 'date']),
  default: json.optional(),
  description: z.string().optional(),
});

export const scenarioSchema = z.strictObject({
  version: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  start_step: nonEmpty,
  variables: z.record(variableName, variableSchema).optional(),
  settings: z
    .strictObject({
      max_auto_transitions: z.int().min(1).max(1000).optional(),
      help_message: z.string().optional(),
      timeout: timeoutSchema.optional(),
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
