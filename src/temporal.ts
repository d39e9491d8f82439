import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';

/** The Temporal frontend the API and worker talk to: the configured one, else the embedded dev server. */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? '127.0.0.1:7233';
}

/**
 * The API's client, on the SDK's native (Rust) connection rather than grpc-js: a webhook's
 * `signalWithStart` cost the API 1.4–1.7 ms of CPU instead of 1.8–2.4 (docs/performance.md).
 */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  return new Client({ connection, namespace: config.temporal.namespace });
}
