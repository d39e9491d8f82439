/**
 * The call of a scenario's `http_request` step. Any tenant writes the URL, so every hop goes only
 * where the egress policy allows: `http:`/`https:`, an address that is not loopback, private,
 * link-local or otherwise reserved unless the host is listed in HTTP_REQUEST_ALLOWED_HOSTS, at
 * most MAX_REDIRECTS redirects each checked afresh, a reply of at most MAX_REPLY_BYTES and a
 * deadline inside the activity's start-to-close timeout.
 *
 * A host name is resolved once and the connection is pinned to the address that was checked, so a
 * second, different answer of the name server (DNS rebinding) never reaches the socket.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { lookup as systemLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, type Dispatcher, errors as undiciErrors, request } from 'undici';
import type { HttpRequestRefused } from '../src/dialog/contract';
import type { HttpRequestSpec, JsonValue } from '../src/engine/types';

/** The failure type of a call the egress policy refused; the workflow turns it into `http_request_refused`. */
export const HTTP_REQUEST_REFUSED: HttpRequestRefused = 'HttpRequestRefused';

export const MAX_REDIRECTS = 3;
export const MAX_REPLY_BYTES = 256 * 1024;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The whole call, redirects included, ends inside the activity's 20 s start-to-close timeout (workflows/dialog/activities.ts). */
export const MAX_TIMEOUT_MS = 15_000;

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name has; `dns.lookup` unless a test gives its own. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export interface HttpRequestDeps {
  /** Host names (as `URL.hostname` writes them) that may be reached on any address. */
  allowedHosts: readonly string[];
  resolve?: ResolveHost;
  /** The connections to an address the policy allowed; `pinnedAgent` unless a test watches them. */
  connectTo?: (address: ResolvedAddress) => Dispatcher;
}

const resolveWithSystem: ResolveHost = (hostname) => systemLookup(hostname, { all: true, verbatim: true });

/**
 * Addresses no scenario may reach: the IANA special-purpose ranges. Node's BlockList matches the
 * IPv4 ranges against IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) too.
 */
const FORBIDDEN_ADDRESSES = (() => {
  const list = new BlockList();
  const ipv4: [string, number][] = [
    ['0.0.0.0', 8], // "this network", the unspecified address
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata services
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, and the broadcast address
  ];
  const ipv6: [string, number][] = [
    ['::', 96], // unspecified, loopback, IPv4-compatible
    ['64:ff9b::', 96], // NAT64: these embed an IPv4 address the ranges above would not see
    ['64:ff9b:1::', 48],
    ['100::', 64], // discard
    ['2001::', 23], // protocol assignments, Teredo
    ['2001:db8::', 32],
    ['2002::', 16], // 6to4, embeds an IPv4 address
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local
    ['ff00::', 8], // multicast
  ];
  for (const [network, prefix] of ipv4) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
})();

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN_ADDRESSES.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that frame or route the call: ours to set, never the scenario's. */
const CONTROLLED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
]);

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`refused by the egress policy: ${message}`, HTTP_REQUEST_REFUSED);
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'HttpRequestInvalid');
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw invalid(base ? 'a redirect pointed at an invalid URL' : 'the URL is not valid');
  }
}

function headersFor(scenarioHeaders: Record<string, string>, body: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(scenarioHeaders)) {
    if (!CONTROLLED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * Connections that go only to `address`, whatever the name in the URL: its lookup answers the
 * address the policy checked. The name still goes out as the Host header and the TLS server name.
 */
export function pinnedAgent({ address, family }: ResolvedAddress): Agent {
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  return new Agent({ connect: { lookup } });
}

/** `work`, or the deadline's reason once `signal` aborts first. */
function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = () => (signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(reason());
    const stop = () => reject(reason());
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The reply's body, read no further than the cap. */
async function readCapped(response: Dispatcher.ResponseData): Promise<string> {
  const declared = Number(firstHeader(response.headers['content-length']));
  const tooLarge = () => refused(`the reply is larger than ${MAX_REPLY_BYTES / 1024} KiB`);
  if (declared > MAX_REPLY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_REPLY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseReply(text: string): JsonValue {
  if (text === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

type Hop = { kind: 'reply'; value: JsonValue } | { kind: 'redirect'; status: number; location: string };

export function createHttpRequest(deps: HttpRequestDeps): (spec: HttpRequestSpec) => Promise<JsonValue> {
  const resolve = deps.resolve ?? resolveWithSystem;
  const allowedHosts = new Set(deps.allowedHosts);
  const connectTo = deps.connectTo ?? pinnedAgent;

  /** The address to connect to for `url`, once the policy allows it. */
  async function checkedAddress(url: URL, signal: AbortSignal): Promise<ResolvedAddress> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`only http and https URLs may be requested, not ${url.protocol}`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(host);
    const addresses = literal ? [{ address: host, family: literal }] : await beforeDeadline(resolve(host), signal);
    if (addresses.length === 0) throw new Error(`${url.hostname} has no address`);
    // Every address is checked, not only the one used: the name must not point anywhere forbidden.
    if (!allowedHosts.has(url.hostname) && addresses.some((entry) => isForbiddenAddress(entry.address))) {
      throw refused(
        `${url.hostname} has a loopback, private, link-local or otherwise reserved address (list the host in HTTP_REQUEST_ALLOWED_HOSTS to allow it)`,
      );
    }
    const [first] = addresses;
    return { address: first.address, family: isIP(first.address) };
  }

  async function exchange(
    url: URL,
    address: ResolvedAddress,
    options: { method: HttpRequestSpec['method']; headers: Record<string, string>; body?: string; signal: AbortSignal },
  ): Promise<Hop> {
    const agent = connectTo(address);
    try {
      const response = await request(url, { ...options, dispatcher: agent });
      const status = response.statusCode;
      const location = firstHeader(response.headers.location);
      if (REDIRECT_STATUSES.has(status) && location !== undefined) return { kind: 'redirect', status, location };
      if (status === 429 || status >= 500) throw new Error(`${options.method} ${url.origin} answered ${status}`);
      if (status < 200 || status >= 300) throw ApplicationFailure.nonRetryable(`${options.method} ${url.origin} answered ${status}`, 'HttpRequestRejected');
      return { kind: 'reply', value: parseReply(await readCapped(response)) };
    } finally {
      // Also drops whatever of a body was left unread.
      await agent.destroy();
    }
  }

  return async function httpRequest(spec: HttpRequestSpec): Promise<JsonValue> {
    const timeoutMs = Math.min(spec.timeout_ms ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
    const signal = AbortSignal.timeout(timeoutMs);
    let url = parseUrl(spec.url);
    let method = spec.method;
    let body = spec.body !== undefined && method !== 'GET' ? JSON.stringify(spec.body) : undefined;
    let scenarioHeaders = spec.headers ?? {};
    try {
      for (let redirects = 0; ; redirects += 1) {
        const address = await checkedAddress(url, signal);
        const hop = await exchange(url, address, { method, headers: headersFor(scenarioHeaders, body), body, signal });
        if (hop.kind === 'reply') return hop.value;
        if (redirects === MAX_REDIRECTS) throw refused(`more than ${MAX_REDIRECTS} redirects`);
        const next = parseUrl(hop.location, url);
        // The scenario's headers (credentials, typically) are for the origin it named.
        if (next.origin !== url.origin) scenarioHeaders = {};
        if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        url = next;
      }
    } catch (error) {
      if (error instanceof ApplicationFailure) throw error;
      if (signal.aborted) throw new Error(`${method} ${url.origin} gave no reply within ${timeoutMs} ms`);
      if (error instanceof undiciErrors.InvalidArgumentError) throw invalid(`the request is not valid: ${error.message}`);
      throw error;
    }
  };
}
