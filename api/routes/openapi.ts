import Router from '@koa/router';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';

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
  const assets = getAbsoluteFSPath();
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
