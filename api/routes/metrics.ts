import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { metricsAuthorized, platformLabel, renderMetrics, webhookDuration } from '../../src/metrics';
import { unauthorized } from '../../src/errors';
import type { Services } from '../deps';

/**
 * `GET /metrics` in the Prometheus text format. With `METRICS_TOKEN` set it wants
 * `Authorization: Bearer <METRICS_TOKEN>`; unset, it is open like `/health`, for a scraper on the
 * private network (the API binds 127.0.0.1 unless HOST says otherwise). Not an operator JWT: a
 * scraper should not hold a credential that can read dialogs.
 */
export function metricsRoutes(s: Services, options: { token?: string } = {}): Router {
  const token = options.token ?? process.env.METRICS_TOKEN;
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    if (!metricsAuthorized(ctx.get('authorization'), token)) throw unauthorized('The metrics token is missing or wrong.');
    const { contentType, body } = await renderMetrics(s.db);
    ctx.set('Content-Type', contentType);
    ctx.body = body;
  });
  return router;
}

/** Route middleware of the webhooks: how long each took to answer, by platform and status. */
export async function observeWebhook(ctx: Context, next: Next): Promise<void> {
  const end = webhookDuration.startTimer({ platform: platformLabel(ctx.params.platform) });
  try {
    await next();
    end({ status: String(ctx.status) });
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    end({ status: typeof status === 'number' ? String(status) : '500' });
    throw error;
  }
}
