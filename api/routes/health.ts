import Router from '@koa/router';
import type { Services } from '../deps';

export function healthRoutes(s: Services): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    const [database, temporal] = await Promise.all([
      s.db.raw('select 1').then(
        () => 'ok',
        () => 'down',
      ),
      s.workflows.reachable().then((up) => (up ? 'ok' : 'down')),
    ]);
    const ok = database === 'ok' && temporal === 'ok';
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'degraded', database, temporal };
  });
  return router;
}
