/**
 * The Temporal connection settings: what loadConfig accepts and refuses, and what the SDK's native
 * connection really sends with them (a TLS server in the test plays the secured frontend).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { loadConfig } from '../../src/config';
import { connectionOptions, connectTemporal } from '../../src/temporal';
import { configProblems } from '../support/config';

// Throwaway test material (EC P-256): a CA, a server certificate for temporal.test, a client certificate.
const CA = `-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUAaqv/wzqAh9KtkAop8HLBASBsRUwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSYm90LWVuZ2luZS10ZXN0LWNhMCAXDTI2MTIwNTIyMDYzN1oY
DzIxMjYxMTExMjIwNjM3WjAdMRswGQYDVQQDDBJib3QtZW5naW5lLXRlc3QtY2Ew
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQZ/vbd8OWE4zKSVpPssmCppUtyh6iJ
M5fyf5a5rzc3l2SLNqw6HnOUolQa820980GXlEAldtrbcUoIYni9eBHbo2MwYTAd
BgNVHQ4EFgQUduLtS1082FFt4ByJqkESv+mhqNIwHwYDVR0jBBgwFoAUduLtS108
2FFt4ByJqkESv+mhqNIwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQw
CgYIKoZIzj0EAwIDSAAwRQIgHc/wuNvF8jUo1z+/QukZGPNo/qwurNb1nWdEJ1DT
2CoCIQCWtvFPiwKTBObKgz+hC6ztgFCgqw7HNXO5roh9UvYmKQ==
-----END CERTIFICATE-----`;
const SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIBtTCCAVugAwIBAgIUA544u4QiG63H9bN9bryoc9JWKBMwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSYm90LWVuZ2luZS10ZXN0LWNhMCAXDTI2MTIwNTIyMDYzN1oY
DzIxMjYxMTExMjIwNjM3WjAYMRYwFAYDVQQDDA10ZW1wb3JhbC50ZXN0MFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEyDxskY78RGlvXSXAl0qh1QMp8NFjriKK7fsz
TJVJZ1qZlObfWg5lv0wNOX9UKcK0J3coYorzxqdI69qC3ob3wKN8MHowGAYDVR0R
BBEwD4INdGVtcG9yYWwudGVzdDATBgNVHSUEDDAKBggrBgEFBQcDATAJBgNVHRME
AjAAMB0GA1UdDgQWBBTYYkdoImG1wl92kMVjOqjIH/PfezAfBgNVHSMEGDAWgBR2
4u1LXTzYUW3gHImqQRK/6aGo0jAKBggqhkjOPQQDAgNIADBFAiEAkJnT6CeZM9Ur
uDLXElkw9rMIyHOhZf5dhkNKnDmXepACIE4erITtr4vW/UPVA83Ra4GbYhfkWpPa
jN+tz6Ho62d4
-----END CERTIFICATE-----`;
const SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyR0mfKr67KQSUcE8
TotqTGdRIjbk0rSIf/20Tq9hkU2hRANCAATIPGyRjvxEaW9dJcCXSqHVAynw0WOu
Iort+zNMlUlnWpmU5t9aDmW/TA05f1QpwrQndyhiivPGp0jr2oLehvfA
-----END PRIVATE KEY-----`;
const CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIBpTCCAUqgAwIBAgIUA544u4QiG63H9bN9bryoc9JWKBQwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSYm90LWVuZ2luZS10ZXN0LWNhMCAXDTI2MTIwNTIyMDYzN1oY
DzIxMjYxMTExMjIwNjM3WjAhMR8wHQYDVQQDDBZib3QtZW5naW5lLXRlc3QtY2xp
ZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECXEI9vB7XmB5lKb1DFaosmD+
flmmJzKWB5XhXkOPJsQI4NnjWQ5EJpmigrNrt5YKLeFboOgxjslpTZuzQWOfh6Ni
MGAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwCQYDVR0TBAIwADAdBgNVHQ4EFgQUdRYG
A3Hoq7LLLplo9o29LOXgV1swHwYDVR0jBBgwFoAUduLtS1082FFt4ByJqkESv+mh
qNIwCgYIKoZIzj0EAwIDSQAwRgIhAIBsvYagTOTPtdRlNUuSvS1SHHK7DT3D1pgY
rkkLd2ruAiEA65zerfUh9ALfptvxWgkPrJ+JnzAbLSvb5CRJ90rnSKM=
-----END CERTIFICATE-----`;
const CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgd3wSFQXdXUOWDoPw
68CDjTdNiuTUkJaRtchNUGgfROGhRANCAAQJcQj28HteYHmUpvUMVqiyYP5+WaYn
MpYHleFeQ48mxAjg2eNZDkQmmaKCs2u3lgot4Vug6DGOyWlNm7NBY5+H
-----END PRIVATE KEY-----`;

const base = {
  NODE_ENV: 'test',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  TEMPORAL_ADDRESS: 'temporal.example:7233',
};

const problems = (env: Record<string, string>) => configProblems({ ...base, ...env });

const optionsOf = (env: Record<string, string>) => connectionOptions(loadConfig({ ...base, ...env }));

describe('Temporal connection settings', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a plain connection to the address when nothing is set', () => {
    expect(optionsOf({})).toEqual({ address: 'temporal.example:7233' });
    expect(connectionOptions(loadConfig({ NODE_ENV: 'test', JWT_SECRET: base.JWT_SECRET, ENCRYPTION_KEY: base.ENCRYPTION_KEY }))).toEqual({
      address: '127.0.0.1:7233',
    });
  });

  it('turns TLS on with an API key (Temporal Cloud) and sends the namespace header, unless TEMPORAL_TLS=false', () => {
    expect(optionsOf({ TEMPORAL_API_KEY: 'key-1', TEMPORAL_NAMESPACE: 'acme.a1b2c' })).toEqual({
      address: 'temporal.example:7233',
      tls: {},
      apiKey: 'key-1',
      metadata: { 'temporal-namespace': 'acme.a1b2c' },
    });
    expect(optionsOf({ TEMPORAL_API_KEY: 'key-1', TEMPORAL_TLS: 'false' })).toMatchObject({ tls: false, apiKey: 'key-1' });
    expect(optionsOf({ TEMPORAL_TLS: 'true' })).toEqual({ address: 'temporal.example:7233', tls: {} });
  });

  it('reads certificates and keys from files or from the PEM text itself (one-line \\n escapes too)', () => {
    const fromFiles = optionsOf({
      TEMPORAL_TLS_CERT: file('client.pem', CLIENT_CERT),
      TEMPORAL_TLS_KEY: file('client.key', CLIENT_KEY),
      TEMPORAL_TLS_CA: file('ca.pem', CA),
    });
    const inline = optionsOf({
      TEMPORAL_TLS_CERT: CLIENT_CERT,
      TEMPORAL_TLS_KEY: CLIENT_KEY.replaceAll('\n', '\\n'),
      TEMPORAL_TLS_CA: CA,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    const tls = { clientCertPair: { crt: Buffer.from(CLIENT_CERT), key: Buffer.from(CLIENT_KEY) }, serverRootCACertificate: Buffer.from(CA) };
    expect(fromFiles.tls).toEqual(tls);
    expect(inline.tls).toEqual({ ...tls, serverNameOverride: 'temporal.test' });
  });

  it('names the missing half of a client certificate pair', () => {
    expect(problems({ TEMPORAL_TLS_CERT: CLIENT_CERT })).toEqual([expect.stringMatching(/^TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT/)]);
    expect(problems({ TEMPORAL_TLS_KEY: CLIENT_KEY })).toEqual([expect.stringMatching(/^TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY/)]);
  });

  it('refuses unreadable files, text that is not PEM and a key of another certificate, without quoting a key', () => {
    const missing = path.join(dir, 'nope.pem');
    expect(problems({ TEMPORAL_TLS_CA: missing })).toEqual([`TEMPORAL_TLS_CA: cannot read ${missing} (ENOENT); give a PEM file or the PEM text itself`]);
    expect(problems({ TEMPORAL_TLS_CA: file('junk.pem', 'not a certificate') })).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CA: not a PEM certificate \(in /),
    ]);
    const truncated = CLIENT_KEY.split('\n')
      .filter((_, line) => line !== 2)
      .join('\n');
    expect(problems({ TEMPORAL_TLS_CERT: CLIENT_CERT, TEMPORAL_TLS_KEY: truncated })).toEqual(['TEMPORAL_TLS_KEY: not a PEM private key']);
    expect(problems({ TEMPORAL_TLS_CERT: CLIENT_CERT, TEMPORAL_TLS_KEY: SERVER_KEY })).toEqual(['TEMPORAL_TLS_KEY: not the private key of TEMPORAL_TLS_CERT']);
  });

  it('refuses contradictions, keys with spaces and security settings for the embedded dev server', () => {
    expect(problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: CA })).toEqual(['TEMPORAL_TLS: false contradicts TEMPORAL_TLS_CA']);
    expect(problems({ TEMPORAL_API_KEY: 'key 1' })).toEqual(['TEMPORAL_API_KEY: expected the key alone, without spaces or line breaks']);
    expect(problems({ TEMPORAL_TLS: 'yes' })).toEqual(['TEMPORAL_TLS: expected true or false']);
    expect(problems({ TEMPORAL_ADDRESS: '', TEMPORAL_API_KEY: 'key-1' })).toEqual([expect.stringMatching(/^TEMPORAL_ADDRESS: required with TEMPORAL_API_KEY/)]);
  });

  it('connects with the client certificate, the API key and the namespace header, checking the server against the CA', async () => {
    const seen: { path?: string; authorization?: string; namespace?: string; client?: string | string[] }[] = [];
    const server = http2.createSecureServer({ cert: SERVER_CERT, key: SERVER_KEY, ca: CA, requestCert: true, rejectUnauthorized: true });
    server.on('stream', (stream, headers) => {
      const client = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate().subject?.CN;
      seen.push({ path: headers[':path'], authorization: headers.authorization, namespace: headers['temporal-namespace'] as string, client });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'test frontend' }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const config = loadConfig({
        ...base,
        TEMPORAL_ADDRESS: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        TEMPORAL_NAMESPACE: 'acme.a1b2c',
        TEMPORAL_API_KEY: 'key-1',
        TEMPORAL_TLS_CERT: CLIENT_CERT,
        TEMPORAL_TLS_KEY: CLIENT_KEY,
        TEMPORAL_TLS_CA: CA,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      });
      await expect(connectTemporal(config)).rejects.toThrow(/test frontend/);
      expect(seen[0]).toEqual({
        path: '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo',
        authorization: 'Bearer key-1',
        namespace: 'acme.a1b2c',
        client: 'bot-engine-test-client',
      });
    } finally {
      server.close();
    }
  });
});
