import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { notFound } from '../src/errors';
import { errorBody, pathParameters } from './schemas';
import { hasNul } from './validation';

type Method = 'get' | 'post' | 'put' | 'delete';

/** What the OpenAPI document says of one route; the route validates with the very same schemas. */
export interface OperationSpec {
  summary: string;
  tag: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** multipart/form-data fields (files as `z.any()` with a description). */
  multipart?: z.ZodObject;
  /** Status of success and the schema of its JSON body (or a media type for exports). */
  success: { status: number; schema?: z.ZodType; mediaTypes?: string[]; description?: string };
  /** Error statuses the route may answer besides 401 (and 400 and 415 with a body, 500 always). */
  errors?: number[];
  /** false for the routes outside operator auth (webhooks, health, the document itself). */
  auth?: boolean;
}

export interface Operation extends OperationSpec {
  method: Method;
  path: string;
}

/** A router whose routes carry their OpenAPI description, so the document cannot drift from them. */
export class ApiRouter extends Router {
  readonly operations: Operation[] = [];

  /** Case-sensitive: a route answers its one documented spelling (the token guard reads every spelling). */
  constructor() {
    super({ sensitive: true });
  }

  op(method: Method, routePath: string, spec: OperationSpec, ...middleware: Middleware[]): this {
    this.operations.push({ method, path: routePath, ...spec });
    // Webhooks give one answer (401) to everything wrong, so a caller learns nothing from them.
    const checks = spec.auth === false ? [] : [checkPathParameters];
    (this[method] as (p: string, ...m: Middleware[]) => unknown)(routePath, ...checks, ...middleware);
    return this;
  }
}

/** A path parameter outside its declared shape names nothing that can exist: 404. */
const checkPathParameters: Middleware = async (ctx, next) => {
  for (const [name, value] of Object.entries(ctx.params)) {
    if (!pathParameter(name).safeParse(value).success || hasNul(value)) throw notFound(PARAMETER_NOUNS[name] ?? 'Resource');
  }
  await next();
};

const PARAMETER_NOUNS: Record<string, string> = { accountId: 'Account', botId: 'Bot', platform: 'Platform', chatId: 'Dialog' };

const pathParameter = (name: string): z.ZodType => pathParameters[name as keyof typeof pathParameters] ?? pathParameters.id;

/** The shared error responses (`components/responses`), by status. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Malformed request (details name each wrong field)' },
  401: { name: 'Unauthorized', description: 'Missing or invalid bearer token (webhooks: missing or wrong platform proof)' },
  403: { name: 'Forbidden', description: 'A viewer token tried to write' },
  404: { name: 'NotFound', description: 'Not found, or another account’s resource' },
  409: { name: 'Conflict', description: 'Conflict: duplicate name, stale expected_version or wrong state' },
  413: { name: 'PayloadTooLarge', description: 'Too large' },
  415: { name: 'UnsupportedMediaType', description: 'Unsupported media type' },
  422: { name: 'UnprocessableContent', description: 'Invalid content (scenario diagnostics with path, line and column in details)' },
  429: { name: 'TooManyRequests', description: 'Rate limited; Retry-After says when to retry' },
  500: { name: 'InternalError', description: 'Internal error (no stack traces)' },
  502: { name: 'BadGateway', description: 'The platform could not be reached' },
  503: { name: 'ServiceUnavailable', description: 'A service the request needs (virus scanner, storage) is unavailable' },
};

/**
 * Converts zod schemas to JSON Schema 2020-12 and keeps the schemas named with `.meta({ id })` (the
 * recursive JSON value among them) in `components/schemas`, where every `$ref` of the document points.
 */
class SchemaCollector {
  readonly components: Record<string, Record<string, unknown>> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
    const {
      $schema: _dialect,
      $defs,
      ...root
    } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12', override: annotate }) as Record<string, unknown>;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, Record<string, unknown>>)) this.add(name, definition);
    return pointAtComponents(root);
  }

  private add(name: string, definition: Record<string, unknown>) {
    if (name.startsWith('__schema')) throw new Error(`A recursive or shared schema needs a name, .meta({ id }): ${JSON.stringify(definition).slice(0, 120)}`);
    const schema = pointAtComponents(definition);
    const known = this.components[name];
    if (known && JSON.stringify(known) !== JSON.stringify(schema)) throw new Error(`Two different schemas are named ${name} (input and output differ?)`);
    this.components[name] = schema;
  }
}

function pointAtComponents(schema: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
}

/**
 * OpenAPI's additions to what zod writes: the discriminator of a discriminated union (the platform
 * connections); `\d` spelled `[0-9]`, which it means in ECMA-262 patterns, for tools that read
 * patterns with another dialect's `\d` (Python's matches any Unicode digit); and no NUL in free
 * text, which `parse()` refuses (see `hasNul`).
 */
function annotate(ctx: { zodSchema: z.core.$ZodType; jsonSchema: Record<string, unknown> }) {
  const def = ctx.zodSchema._zod.def as { type: string; discriminator?: string; options?: z.ZodObject[] };
  const schema = ctx.jsonSchema;
  if (def.type === 'union' && def.discriminator && def.options) schema.discriminator = discriminator(def.discriminator, def.options);
  if (typeof schema.pattern === 'string') schema.pattern = schema.pattern.replaceAll('\\d', '[0-9]');
  else if (schema.type === 'string' && !schema.format && !schema.enum && schema.const === undefined) schema.pattern = NO_NUL;
}

const NO_NUL = '^[^\\u0000]*$';

/** The discriminator of a union of named objects told apart by the literal value of `property`. */
function discriminator(property: string, options: z.ZodObject[]) {
  const mapping: Record<string, string> = {};
  for (const option of options) {
    const id = z.globalRegistry.get(option)?.id;
    const value = (option.shape[property] as z.ZodLiteral<string> | undefined)?.value;
    if (!id || value === undefined) throw new Error(`Each option of a discriminated union needs .meta({ id }) and a literal "${property}"`);
    mapping[value] = `#/components/schemas/${id}`;
  }
  return { propertyName: property, mapping };
}

function openApiPath(routePath: string): string {
  return routePath.replace(/:(\w+)/g, '{$1}');
}

function parameters(op: Operation, schemas: SchemaCollector) {
  const inPath = [...op.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: schemas.convert(pathParameter(name), 'input'),
  }));
  if (!op.query) return inPath;
  const query = schemas.convert(op.query, 'input') as { properties: Record<string, Record<string, unknown>>; required?: string[] };
  const inQuery = Object.entries(query.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: (query.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema,
  }));
  return [...inPath, ...inQuery];
}

function errorResponses(statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => {
      const known = ERROR_RESPONSES[status];
      if (!known) throw new Error(`No error response is described for ${status}`);
      return [String(status), { $ref: `#/components/responses/${known.name}` }];
    }),
  );
}

function errorResponseComponent(status: number) {
  return {
    description: ERROR_RESPONSES[status].description,
    ...(status === 429 ? { headers: { 'Retry-After': { required: true, description: 'Seconds to wait', schema: { type: 'integer', minimum: 1 } } } } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

/** OpenAPI 3.1 (JSON Schema 2020-12) built from the routes' own zod schemas. */
export function openApiDocument(operations: Operation[], info: { version: string; serverUrl?: string }) {
  const schemas = new SchemaCollector();
  schemas.convert(errorBody, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  const usedErrors = new Set<number>();
  for (const op of operations) {
    const { success } = op;
    const json = success.schema ? { schema: schemas.convert(success.schema, 'output') } : {};
    const content = success.mediaTypes
      ? Object.fromEntries(success.mediaTypes.map((type) => [type, type === 'application/json' ? json : {}]))
      : success.schema
        ? { 'application/json': json }
        : undefined;
    const hasBody = Boolean(op.body || op.multipart);
    const statuses = [
      ...new Set([...(op.auth === false ? [] : [401]), ...(op.query || hasBody ? [400] : []), ...(op.body ? [415] : []), ...(op.errors ?? []), 500]),
    ].sort();
    for (const status of statuses) usedErrors.add(status);
    const requestBody = op.body
      ? { required: !op.body.safeParse({}).success, content: { 'application/json': { schema: schemas.convert(op.body, 'input') } } }
      : op.multipart
        ? { required: true, content: { 'multipart/form-data': { schema: schemas.convert(op.multipart, 'input') } } }
        : undefined;
    const key = openApiPath(op.path);
    paths[key] ??= {};
    paths[key][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method}_${key
        .replace(/[{}]/g, '')
        .replace(/[^\w]+/g, '_')
        .replace(/^_|_$/g, '')}`,
      ...(op.auth === false ? { security: [] } : {}),
      parameters: parameters(op, schemas),
      ...(requestBody ? { requestBody } : {}),
      responses: { [String(success.status)]: { description: success.description ?? 'Success', ...(content ? { content } : {}) }, ...errorResponses(statuses) },
    };
  }
  const tags = [...new Set(operations.map((op) => op.tag))].sort().map((name) => ({ name, description: TAGS[name] ?? name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'GET INN Bot Engine API',
      version: info.version,
      description:
        'Operator API of the bot engine. Errors are `{"error":{"code","message","details"}}`; lists are `{"items","total","limit","offset"}`. ' +
        'See docs/api.md, and docs/scenario-format.md for `scenario_data`.',
    },
    servers: [{ url: info.serverUrl ?? '/' }],
    security: [{ bearer: [] }],
    tags,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: Object.fromEntries(Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b))),
      responses: Object.fromEntries([...usedErrors].sort().map((status) => [ERROR_RESPONSES[status].name, errorResponseComponent(status)])),
    },
    paths,
  };
}

const TAGS: Record<string, string> = {
  analytics: 'Scenario and dialog analytics from the recorded events',
  audit: 'Who changed what, per account',
  bots: 'Bots of an account',
  dialogs: 'Conversations, their state and history',
  media: 'Uploaded and received media files',
  platforms: 'Platform connections (credentials are write-only)',
  scenarios: 'Scenario versions',
  webhooks: 'Platform webhooks and their health',
};
