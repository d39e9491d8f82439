import Router from '@koa/router';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { errorBody } from './schemas';

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
  /** Error statuses the route may answer besides 401 and 500. */
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

  op(method: Method, routePath: string, spec: OperationSpec, ...middleware: Middleware[]): this {
    this.operations.push({ method, path: routePath, ...spec });
    (this[method] as (p: string, ...m: Middleware[]) => unknown)(routePath, ...middleware);
    return this;
  }
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed request (details name each wrong field)',
  401: 'Missing or invalid bearer token',
  403: 'A viewer token tried to write',
  404: 'Not found, or another account’s resource',
  409: 'Conflict: duplicate name, stale expected_version or wrong state',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Invalid content (scenario diagnostics with path, line and column in details)',
  429: 'Rate limited; Retry-After says when to retry',
  500: 'Internal error (no stack traces)',
  502: 'The platform could not be reached',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

function openApiPath(routePath: string): string {
  return routePath.replace(/:(\w+)/g, '{$1}');
}

function parameters(op: Operation) {
  const inPath = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const inQuery = op.query
    ? Object.entries(jsonSchema(op.query, 'input').properties as Record<string, Record<string, unknown>>).map(([name, schema]) => ({
        name,
        in: 'query',
        required: ((jsonSchema(op.query as z.ZodObject, 'input').required as string[] | undefined) ?? []).includes(name),
        schema,
      }))
    : [];
  return [...inPath, ...inQuery];
}

/** OpenAPI 3.1 (JSON Schema 2020-12) built from the routes' own zod schemas. */
export function openApiDocument(operations: Operation[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = jsonSchema(errorBody, 'output');
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    const content = op.success.mediaTypes
      ? Object.fromEntries(op.success.mediaTypes.map((type) => [type, type === 'application/json' && op.success.schema ? { schema: jsonSchema(op.success.schema, 'output') } : {}]))
      : op.success.schema
        ? { 'application/json': { schema: jsonSchema(op.success.schema, 'output') } }
        : undefined;
    responses[String(op.success.status)] = { description: op.success.description ?? 'Success', ...(content ? { content } : {}) };
    const statuses = new Set([...(op.auth === false ? [] : [401]), ...(op.errors ?? []), 500]);
    for (const status of [...statuses].sort()) {
      responses[String(status)] = {
        description: ERROR_TEXT[status] ?? 'Error',
        content: { 'application/json': { schema: error } },
        ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } } } : {}),
      };
    }
    const requestBody = op.body
      ? { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } }
      : op.multipart
        ? { required: true, content: { 'multipart/form-data': { schema: jsonSchema(op.multipart, 'input') } } }
        : undefined;
    const key = openApiPath(op.path);
    paths[key] ??= {};
    paths[key][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method}_${key.replace(/[{}]/g, '').replace(/[^\w]+/g, '_').replace(/^_|_$/g, '')}`,
      ...(op.auth === false ? { security: [] } : {}),
      parameters: parameters(op),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'GET INN Bot Engine API',
      version: info.version,
      description: 'Operator API of the bot engine. Errors are `{"error":{"code","message","details"}}`; lists are `{"items","total","limit","offset"}`. See docs/api.md.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}

const SWAGGER_ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png']);
const SWAGGER_TYPES: Record<string, string> = { '.css': 'text/css', '.js': 'application/javascript', '.png': 'image/png' };

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>GET INN Bot Engine API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  persistAuthorization: true,
});
`;

/** `/v1/openapi.json` and Swagger UI at `/docs`, its assets served from the swagger-ui-dist package. */
export function openApiRoutes(document: () => unknown): Router {
  const router = new Router();
  const assets = (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
  let cached: unknown;
  router.get('/v1/openapi.json', (ctx) => {
    cached ??= document();
    ctx.body = cached;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_PAGE;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = DOCS_INIT;
  });
  router.get('/docs/assets/:file', async (ctx) => {
    const file = ctx.params.file;
    if (!SWAGGER_ASSETS.has(file)) return;
    ctx.type = SWAGGER_TYPES[path.extname(file)];
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = await readFile(path.join(assets, file));
  });
  return router;
}
