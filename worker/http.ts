/**
 * The HTTP side of a worker process (`npm run worker`): `GET /health` for its supervisor and
 * `GET /metrics` for Prometheus, on `WORKER_HTTP_HOST:WORKER_HTTP_PORT`. A worker inside
 * `npm start` has none: the API's `/metrics` shows its activity metrics there.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenProbe } from '../src/http-probe';
import type { Logger } from '../src/log';
import { metricsAuthorized, renderProcessMetrics } from '../src/metrics';

/** How long `/health` waits for the Temporal frontend, and `/metrics` for Core's exporter. */
const UPSTREAM_TIMEOUT_MS = 2_000;

/** What the process has brought up so far, filled in as it starts: `/health` says `starting` until then. */
export interface WorkerParts {
  worker?: Pick<Worker, 'getState'>;
  connection?: Pick<NativeConnection, 'withDeadline' | 'workflowService'>;
}

export interface WorkerHttpOptions {
  host: string;
  port: number;
  parts: WorkerParts;
  /** `/metrics` wants `Authorization: Bearer <token>` when set (`METRICS_TOKEN`), like the API's. */
  metricsToken?: string;
  /** Where Temporal Core's Prometheus exporter answers (worker/main.ts binds it on loopback). */
  coreMetricsUrl?: string;
  log: Logger;
}

/** A free port on loopback for Core's exporter, which is only ever read through `/metrics` here. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

/**
 * 200 while the worker polls and its Temporal frontend answers; 503 while it starts, drains its
 * running activities after SIGTERM, or has stopped, and when Temporal does not answer in time.
 */
async function health(options: WorkerHttpOptions): Promise<{ status: number; body: Record<string, string> }> {
  const { worker, connection } = options.parts;
  const state = worker && connection ? worker.getState() : 'STARTING';
  if (!connection || state !== 'RUNNING') return { status: 503, body: { status: 'unavailable', worker: state.toLowerCase() } };
  const temporal = await connection
    .withDeadline(Date.now() + UPSTREAM_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}))
    .then(
      () => 'ok',
      () => 'down',
    );
  const ok = temporal === 'ok';
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', worker: 'running', temporal } };
}

/** Core's exposition text, or nothing (logged) when its exporter does not answer: ours still go out. */
async function coreMetrics(options: WorkerHttpOptions): Promise<string> {
  if (!options.coreMetricsUrl) return '';
  try {
    const res = await fetch(options.coreMetricsUrl, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`Temporal Core's metrics exporter answered ${res.status}`);
    return await res.text();
  } catch (error) {
    options.log.warn({ error }, "Temporal Core's metrics are missing from this scrape");
    return '';
  }
}

export async function startWorkerHttp(options: WorkerHttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    if (path !== '/health' && path !== '/metrics')
      return sendJson(res, 404, { error: { code: 'not_found', message: 'Only /health and /metrics are served here.' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: { code: 'method_not_allowed', message: `${path} answers GET.` } });
    }
    const answer = async () => {
      if (path === '/health') {
        const { status, body } = await health(options);
        return sendJson(res, status, body);
      }
      if (!metricsAuthorized(req.headers.authorization, options.metricsToken)) {
        return sendJson(res, 401, { error: { code: 'unauthorized', message: 'The metrics token is missing or wrong.' } });
      }
      const [own, core] = await Promise.all([renderProcessMetrics(), coreMetrics(options)]);
      send(res, 200, own.contentType, own.body + core);
    };
    answer().catch((error: unknown) => {
      options.log.error({ error }, `worker ${path} failed`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'The worker could not answer.' } });
      else res.destroy();
    });
  });
  return listenProbe(server, options.host, options.port);
}
