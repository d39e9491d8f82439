import type { NativeConnectionOptions, TLSConfig } from '@temporalio/worker';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config';

/** How the API and the workers prove themselves to a secured Temporal frontend (Temporal Cloud, a cluster with mTLS). */
export interface TemporalSecurity {
  apiKey?: string;
  /** TLS settings, or `false` for a plain connection even with an API key (`TEMPORAL_TLS=false`). */
  tls?: TLSConfig | false;
}

/** The environment variables of `TemporalSecurity`, as `loadConfig` has checked their syntax. */
export interface TemporalSecurityEnv {
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_API_KEY?: string;
  TEMPORAL_TLS?: 'true' | 'false';
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
}

type PemKind = 'certificate' | 'private key';

/**
 * The PEM text of a setting: the value itself when it holds a PEM block (`\n` escapes, as a one-line
 * `.env` entry writes them, read as line breaks), else the file it names. Parsed here, so a wrong
 * value stops the start with its name rather than failing inside the SDK's TLS handshake.
 */
function readPem(name: string, value: string, kind: PemKind, problems: string[]): Buffer | undefined {
  let pem: string;
  if (value.includes('-----BEGIN')) {
    pem = value.replaceAll('\\n', '\n');
  } else {
    try {
      pem = readFileSync(value, 'utf8');
    } catch (error) {
      problems.push(`${name}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); give a PEM file or the PEM text itself`);
      return undefined;
    }
  }
  try {
    if (kind === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    // The parser's message could quote the value, which may be a private key.
    problems.push(`${name}: not a PEM ${kind}${value.includes('-----BEGIN') ? '' : ` (in ${value})`}`);
    return undefined;
  }
  return Buffer.from(pem);
}

/**
 * API key and TLS of the Temporal connection, as the SDK takes them. An API key implies TLS (Temporal
 * Cloud) unless TEMPORAL_TLS=false; a client certificate needs its key and the key its certificate.
 */
export function temporalSecurity(env: TemporalSecurityEnv): { security?: TemporalSecurity; problems: string[] } {
  const problems: string[] = [];
  const { TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: serverName } = env;
  if (cert && !key) problems.push('TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (the private key of the client certificate)');
  if (key && !cert) problems.push('TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (the client certificate of the key)');
  const tlsSettings = [cert && 'TEMPORAL_TLS_CERT', key && 'TEMPORAL_TLS_KEY', ca && 'TEMPORAL_TLS_CA', serverName && 'TEMPORAL_TLS_SERVER_NAME'].filter(
    Boolean,
  );
  if (env.TEMPORAL_TLS === 'false' && tlsSettings.length > 0) problems.push(`TEMPORAL_TLS: false contradicts ${tlsSettings.join(', ')}`);
  const secured = Boolean(apiKey) || tlsSettings.length > 0 || env.TEMPORAL_TLS === 'true';
  // The embedded dev server of `npm start` takes plain connections only.
  if (secured && !env.TEMPORAL_ADDRESS)
    problems.push('TEMPORAL_ADDRESS: required with TEMPORAL_API_KEY or TEMPORAL_TLS settings (the embedded dev server has neither)');
  if (!secured || problems.length > 0) return { problems };

  if (env.TEMPORAL_TLS === 'false') return { security: { apiKey, tls: false }, problems };
  const crt = cert ? readPem('TEMPORAL_TLS_CERT', cert, 'certificate', problems) : undefined;
  const privateKey = key ? readPem('TEMPORAL_TLS_KEY', key, 'private key', problems) : undefined;
  const caCertificate = ca ? readPem('TEMPORAL_TLS_CA', ca, 'certificate', problems) : undefined;
  if (crt && privateKey && !new X509Certificate(crt).checkPrivateKey(createPrivateKey(privateKey))) {
    problems.push('TEMPORAL_TLS_KEY: not the private key of TEMPORAL_TLS_CERT');
  }
  const tls: TLSConfig = {
    ...(crt && privateKey ? { clientCertPair: { crt, key: privateKey } } : {}),
    ...(caCertificate ? { serverRootCACertificate: caCertificate } : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
  };
  return { security: { ...(apiKey ? { apiKey } : {}), tls }, problems };
}

/** The Temporal frontend the API and worker talk to: the configured one, else the embedded dev server. */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? '127.0.0.1:7233';
}

/** Options of `NativeConnection.connect`, the same for the workers and the API's client. */
export function connectionOptions(config: Config): NativeConnectionOptions {
  const { apiKey, tls } = config.temporal.security ?? {};
  return {
    address: temporalAddress(config),
    ...(tls !== undefined ? { tls } : {}),
    // Temporal Cloud routes an API key's calls by this header; @temporalio/client's grpc-js connection adds it to
    // each call, the native connection only sends what it is given.
    ...(apiKey ? { apiKey, metadata: { 'temporal-namespace': config.temporal.namespace } } : {}),
  };
}
