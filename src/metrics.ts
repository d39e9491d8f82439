/**
 * Prometheus metrics of this process (prom-client), served at `/metrics` by the API and by a worker
 * of its own process (worker/http.ts, which adds Temporal Core's metrics).
 *
 * The registry is this module's own rather than prom-client's global one, so a test that builds
 * several apps in one process never registers a metric twice. Activity metrics are observed by a
 * worker interceptor, so they are on the `/metrics` of whichever process runs the worker: the
 * API's in `npm start`, the worker's own otherwise.
 */
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db';
import { isPlatformName } from './platforms';

export const registry = new Registry();

/** Webhook answers on the platforms' side of the wire are short; the tail up to seconds matters. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const webhookDuration = new Histogram({
  name: 'getinn_webhook_duration_seconds',
  help: 'Webhook requests from arrival to answer, by platform and HTTP status',
  labelNames: ['platform', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const signalDuration = new Histogram({
  name: 'getinn_signal_duration_seconds',
  help: 'signalWithStart of a dialog workflow until Temporal accepted the message, by platform and outcome',
  labelNames: ['platform', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const activityDuration = new Histogram({
  name: 'getinn_activity_duration_seconds',
  help: 'Dialog activity attempts, by activity, platform and outcome',
  labelNames: ['activity', 'platform', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const activityErrors = new Counter({
  name: 'getinn_activity_errors_total',
  help: 'Failed dialog activity attempts, by activity, platform and failure type',
  labelNames: ['activity', 'platform', 'type'] as const,
  registers: [registry],
});

export const dialogsByStatus = new Gauge({
  name: 'getinn_dialogs',
  help: 'Dialogs by status, counted in the dialogs table when scraped',
  labelNames: ['status'] as const,
  registers: [registry],
});

/** A label value from a URL or an activity argument: a known platform name or `unknown`, never free text. */
export function platformLabel(value: unknown): string {
  return typeof value === 'string' && isPlatformName(value) ? value : 'unknown';
}

/** Times `work` as one signal of a dialog on `platform`. */
export async function observeSignal<T>(platform: string, work: () => Promise<T>): Promise<T> {
  const end = signalDuration.startTimer({ platform: platformLabel(platform) });
  try {
    const result = await work();
    end({ outcome: 'ok' });
    return result;
  } catch (error) {
    end({ outcome: 'error' });
    throw error;
  }
}

let defaultsCollected = false;

/** Process metrics (CPU, memory, event loop lag), added on first use so that merely importing this module starts nothing. */
function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  collectDefaultMetrics({ register: registry });
  defaultsCollected = true;
}

/**
 * Whether a scrape may read `/metrics`: always without a token, else only with
 * `Authorization: Bearer <token>`, compared in constant time.
 */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The exposition text of this process's own metrics, without the dialogs gauge (a worker's `/metrics`). */
export async function renderProcessMetrics(): Promise<{ contentType: string; body: string }> {
  collectProcessMetrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * The exposition text of the API. The dialogs gauge is counted now, with one grouped query on the
 * (bot_id, status) index.
 */
export async function renderMetrics(db: Db): Promise<{ contentType: string; body: string }> {
  const rows = await db('dialogs').select('status').count<{ status: string; count: number | string }[]>({ count: '*' }).groupBy('status');
  dialogsByStatus.reset();
  for (const status of ['active', 'handoff', 'completed', 'abandoned', 'failed']) dialogsByStatus.set({ status }, 0);
  for (const row of rows) dialogsByStatus.set({ status: row.status }, Number(row.count));
  return renderProcessMetrics();
}
