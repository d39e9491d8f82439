import Koa from 'koa';
import { auditRoutes, auditWrites } from './audit';
import { guardV1 } from './auth';
import { createServices, type AppDeps } from './deps';
import { body, errorEnvelope, requestId } from './middleware';
import { type ApiRouter, openApiDocument } from './openapi';
import { openApiRoutes } from './routes/openapi';
import { analyticsRoutes } from './routes/analytics';
import { botRoutes } from './routes/bots';
import { codecCors, codecRoutes } from './routes/codec';
import { consolePage, consoleRoutes } from './routes/console';
import { dialogRoutes } from './routes/dialogs';
import { eraseRoutes } from './routes/erase';
import { healthRoutes } from './routes/health';
import { mediaFileRoutes, mediaRoutes } from './routes/media';
import { metricsRoutes } from './routes/metrics';
import { mergeRoutes } from './routes/merge';
import { platformRoutes } from './routes/platforms';
import { scenarioTestRoutes } from './routes/scenario-tests';
import { isScenarioValidation, scenarioRoutes } from './routes/scenarios';
import { webhookRoutes, webhookStatusRoutes } from './routes/webhooks';

export type { AppDeps };

/** The HTTP app, and what it still has to write before the database may close. */
export type App = Koa & { drain(): Promise<void> };

/** Builds the HTTP app; only `api/main.ts` listens. */
export function createApp(deps: AppDeps): App {
  const services = createServices(deps);
  // In production the API sits behind one reverse proxy; the address it appends to
  // X-Forwarded-For is the client's (the ones before it are whatever the client wrote).
  const app = new Koa({ proxy: deps.config.env === 'production', maxIpsCount: 1 });

  app.use(requestId(deps.log));
  app.use(errorEnvelope());
  app.use(codecCors(deps.config.temporal.uiOrigin));
  app.use(body(isScenarioValidation));

  const webhooks = webhookRoutes(services);
  const guarded: ApiRouter[] = [
    botRoutes(services),
    scenarioRoutes(services),
    scenarioTestRoutes(services),
    platformRoutes(services),
    dialogRoutes(services),
    eraseRoutes(services),
    webhookStatusRoutes(services),
    auditRoutes(services.audit),
    mediaRoutes(services),
    analyticsRoutes(services),
    mergeRoutes(services),
    codecRoutes(services),
    consoleRoutes(services),
  ];
  const document = () =>
    openApiDocument(
      [webhooks, ...guarded].flatMap((r) => r.operations),
      { version: '1.0.0' },
    );

  const open = [healthRoutes(services), metricsRoutes(services), openApiRoutes(document), webhooks, mediaFileRoutes(services)];
  for (const router of open) app.use(router.routes()).use(router.allowedMethods());
  app.use(consolePage(deps.config));

  app.use(guardV1(deps.config.jwtSecret));
  app.use(auditWrites(services.audit));
  for (const router of guarded) app.use(router.routes()).use(router.allowedMethods());
  // Webhook counts are written shortly after the calls they count.
  return Object.assign(app, { drain: () => services.webhookStats.drain() });
}
