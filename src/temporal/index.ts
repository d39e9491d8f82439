import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { dataConverter } from './codec';
import { connectionOptions } from './connection';

export { dataConverter, payloadCodec } from './codec';
export { connectionOptions, temporalAddress } from './connection';

/** The connection workers poll on (and the API's client uses): API key and TLS as configured. */
export function connectTemporal(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}

/**
 * The API's client, on the SDK's native (Rust) connection rather than grpc-js: a webhook's
 * `signalWithStart` cost the API 1.4–1.7 ms of CPU instead of 1.8–2.4 (docs/performance.md).
 */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await connectTemporal(config);
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(config) });
}
