import Koa from 'koa';
import { requireToken } from './auth';
import { createServices, type AppDeps } from './deps';
import { dialogClient } from './dialog-client';
import { body, errorEnvelope, requestId } from './middleware';
import { botRoutes } from './routes/bots';
import { dialogRoutes } from './routes/dialogs';
import { healthRoutes } from './routes/health';
import { platformRoutes } from './routes/platforms';
import { scenarioRoutes } from './routes/scenarios';
import { webhookRoutes } from './routes/webhooks';

export type { AppDeps };

/** Builds the HTTP app; only `api/main.ts` listens. */
export function createApp(deps: AppDeps): Koa {
  const services = createServices(deps);
  const dialogs = dialogClient(deps.temporal, deps.config.temporal.taskQueue);
  const app = new Koa({ proxy: deps.config.env === 'production' });

  app.use(requestId(deps.log));
  app.use(errorEnvelope());
  app.use(body());

  const open = [healthRoutes(services), webhookRoutes(services, dialogs)];
  for (const router of open) app.use(router.routes()).use(router.allowedMethods());

  const token = requireToken(deps.config.jwtSecret);
  app.use(async (ctx, next) => (ctx.path.startsWith('/v1/') ? token(ctx, next) : next()));
  const guarded = [botRoutes(services), scenarioRoutes(services), platformRoutes(services), dialogRoutes(services, dialogs)];
  for (const router of guarded) app.use(router.routes()).use(router.allowedMethods());
  return app;
}
