import { once } from 'node:events';
import type { Server } from 'node:http';

/**
 * Listens on `host:port` with short timeouts, for the health and metrics servers of the worker and
 * Gateway processes: a probe or scraper never holds a process open while it drains.
 */
export async function listenProbe(server: Server, host: string, port: number): Promise<Server> {
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
