/**
 * `GET /health` of a Gateway process (`npm run gateway`) for its supervisor, on
 * `GATEWAY_HTTP_HOST:GATEWAY_HTTP_PORT`: 200 while the database and Temporal answer, 503 naming what
 * does not (or `starting`, before the first scan).
 */
import { createServer, type Server } from 'node:http';
import { listenProbe } from '../src/http-probe';
import type { Logger } from '../src/log';
import type { Gateway } from './index';

export interface GatewayHttpOptions {
  host: string;
  port: number;
  /** Unset until the gateway has started. */
  gateway: () => Gateway | undefined;
  log: Logger;
}

export async function startGatewayHttp(options: GatewayHttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== '/health')
      return reply(404, { error: { code: 'not_found', message: 'Only /health is served here.' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: { code: 'method_not_allowed', message: '/health answers GET.' } });
    const gateway = options.gateway();
    if (!gateway) return reply(503, { status: 'starting' });
    gateway.health().then(
      ({ database, temporal }) =>
        reply(database && temporal ? 200 : 503, {
          status: database && temporal ? 'ok' : 'degraded',
          database: database ? 'ok' : 'down',
          temporal: temporal ? 'ok' : 'down',
          sessions: gateway.sessions().length,
        }),
      (error: unknown) => {
        options.log.error({ err: error }, 'gateway /health failed');
        reply(500, { error: { code: 'internal', message: 'The gateway could not answer.' } });
      },
    );
  });
  return listenProbe(server, options.host, options.port);
}
