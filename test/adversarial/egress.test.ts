/**
 * The hostile tenant's `http_request`: a scenario aiming at loopback, private ranges, cloud
 * metadata or Temporal itself, directly, by a name, through redirects or placeholder values.
 * Only 127.0.0.1 servers started here are ever connected to: every other address is refused
 * before any connection. The module's connections go through `loopbackOnly`, which records them
 * and would stop one to any other address, should the policy ever let it through.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import {
  createHttpRequest,
  HTTP_REQUEST_REFUSED,
  type HttpRequestDeps,
  MAX_REPLY_BYTES,
  MAX_TIMEOUT_MS,
  pinnedAgent,
  type ResolvedAddress,
  type ResolveHost,
} from '../../activities/http-request';
import { loadConfig } from '../../src/config';
import { advance, initialState } from '../../src/engine/advance';
import { checkUrlTemplate, renderUrlTemplate } from '../../src/engine/templates';
import type { EngineInput, HttpRequestSpec, Scenario } from '../../src/engine/types';
import { validateScenarioText } from '../../src/engine/validate';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

// ---- Local servers and the record of every connection undici attempts ----

interface LocalServer {
  url: string;
  port: number;
  /** TCP connections accepted. */
  connections: number;
  requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

async function startLocalServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      local.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      handle(req, res);
    });
  });
  server.on('connection', () => (local.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const local: LocalServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return local;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** The addresses the module connected to. */
const connectionAttempts: string[] = [];
function loopbackOnly(address: ResolvedAddress) {
  connectionAttempts.push(address.address);
  if (!/^127\.|^::1$/.test(address.address)) throw new Error(`test guard: the policy let a connection to ${address.address} through`);
  return pinnedAgent(address);
}
const requester = (deps: Omit<HttpRequestDeps, 'connectTo'>) => createHttpRequest({ ...deps, connectTo: loopbackOnly });

/** A name server that knows only the names given; it never asks the network. */
function stubResolver(names: Record<string, string[]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve: ResolveHost = (hostname) => {
    calls.push(hostname);
    const addresses = names[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: isIP(address) })));
  };
  return Object.assign(resolve, { calls });
}

const get = (url: string, extra: Partial<HttpRequestSpec> = {}): HttpRequestSpec => ({ method: 'GET', url, ...extra });

async function refusal(call: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure).toMatchObject({ type: HTTP_REQUEST_REFUSED, nonRetryable: true });
  expect(failure.message).toContain('egress policy');
  return failure;
}

// ---- The request module ----

describe('the http_request egress policy', () => {
  let secret: LocalServer;

  beforeAll(async () => {
    secret = await startLocalServer((_req, res) => json(res, 200, { secret: 'TEMPORAL-UI-DIALOG-LIST' }));
  });
  afterAll(() => secret.close());
  beforeEach(() => {
    connectionAttempts.length = 0;
  });

  test.each([
    ['loopback literal', () => `${secret.url}/api/v1/namespaces/default/workflows`],
    ['loopback in another notation (0x7f.1)', () => `http://0x7f.1:${secret.port}/`],
    ['10/8', () => 'http://10.0.0.5/'],
    ['172.16/12', () => 'http://172.16.0.1/'],
    ['192.168/16', () => 'http://192.168.1.1/'],
    ['cloud metadata 169.254.169.254', () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['CGNAT 100.64/10', () => 'http://100.64.0.1/'],
    ['IPv6 loopback [::1]', () => `http://[::1]:${secret.port}/`],
    ['IPv6 unique local [fc00::1]', () => 'http://[fc00::1]/'],
    ['IPv6 link-local [fe80::1]', () => 'http://[fe80::1]/'],
    ['IPv4-mapped loopback [::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${secret.port}/`],
    ['IPv4-mapped metadata [::ffff:169.254.169.254]', () => 'http://[::ffff:169.254.169.254]/'],
    ['unspecified 0.0.0.0', () => `http://0.0.0.0:${secret.port}/`],
    ['broadcast 255.255.255.255', () => 'http://255.255.255.255/'],
    ['multicast 224.0.0.1', () => 'http://224.0.0.1/'],
    ['https to a private address', () => 'https://10.1.2.3/'],
  ])('a literal %s is refused before any connection', async (_name, url) => {
    const httpRequest = requester({ allowedHosts: [], resolve: stubResolver({}) });
    await refusal(httpRequest(get(url())));
    expect(connectionAttempts).toEqual([]);
    expect(secret.connections).toBe(0);
  });

  it('localhost by name (the system resolver) is refused before any connection', async () => {
    const httpRequest = requester({ allowedHosts: [] });
    await refusal(httpRequest(get(`http://localhost:${secret.port}/`)));
    expect(connectionAttempts).toEqual([]);
    expect(secret.connections).toBe(0);
  });

  test.each([
    ['a private address', ['10.0.0.5']],
    ['the metadata address', ['169.254.169.254']],
    ['a public and a private address', ['93.184.215.14', '10.0.0.5']],
    ['a public and a mapped loopback address', ['93.184.215.14', '::ffff:127.0.0.1']],
  ])('a name that resolves to %s is refused before any connection', async (_name, addresses) => {
    const resolve = stubResolver({ 'partner.example': addresses });
    const httpRequest = requester({ allowedHosts: [], resolve });
    await refusal(httpRequest(get('https://partner.example/orders/1')));
    expect(resolve.calls).toEqual(['partner.example']);
    expect(connectionAttempts).toEqual([]);
  });

  test.each(['ftp://files.example/x', 'file:///etc/passwd', 'data:application/json,{}', 'ws://chat.example/'])(
    '%s is refused (http and https only)',
    async (url) => {
      const httpRequest = requester({ allowedHosts: [], resolve: stubResolver({}) });
      await refusal(httpRequest(get(url)));
      expect(connectionAttempts).toEqual([]);
    },
  );

  it('an allowed host works and returns its JSON', async () => {
    const httpRequest = requester({ allowedHosts: ['127.0.0.1'] });
    await expect(httpRequest(get(`${secret.url}/orders/1`))).resolves.toEqual({ secret: 'TEMPORAL-UI-DIALOG-LIST' });
    expect(connectionAttempts).toEqual(['127.0.0.1']);
  });

  it('a rebinding name is resolved once and the connection pinned to the address checked', async () => {
    const answers = [['127.0.0.1'], ['10.0.0.5']];
    const calls: string[] = [];
    const resolve: ResolveHost = (hostname) => {
      calls.push(hostname);
      const [address] = answers[Math.min(calls.length - 1, answers.length - 1)];
      return Promise.resolve([{ address, family: 4 }]);
    };
    const httpRequest = requester({ allowedHosts: ['rebind.test'], resolve });
    // `rebind.test` is unknown to the system: the reply can only come from the pinned address.
    await expect(httpRequest(get(`http://rebind.test:${secret.port}/`))).resolves.toEqual({ secret: 'TEMPORAL-UI-DIALOG-LIST' });
    expect(calls).toEqual(['rebind.test']);
    expect(secret.requests.at(-1)?.headers.host).toBe(`rebind.test:${secret.port}`);
  });

  describe('redirects', () => {
    let origin: LocalServer;
    let other: LocalServer;
    let redirectTo = '';
    const resolve = stubResolver({
      'allowed.test': ['127.0.0.1'],
      'also-allowed.test': ['127.0.0.1'],
      'not-allowed.test': ['127.0.0.1'],
      localhost: ['::1', '127.0.0.1'],
    });

    beforeAll(async () => {
      other = await startLocalServer((_req, res) => json(res, 200, { secret: 'SECOND-SERVER' }));
      origin = await startLocalServer((req, res) => {
        const hop = /^\/hop\/(\d+)$/.exec(req.url ?? '');
        if (hop) {
          const left = Number(hop[1]);
          if (left === 0) return json(res, 200, { arrived: true });
          res.writeHead(302, { location: `/hop/${left - 1}` });
          return res.end();
        }
        if (req.url === '/away') {
          res.writeHead(307, { location: redirectTo });
          return res.end('{"secret":"REDIRECT-BODY"}');
        }
        if (req.url === '/see-other') {
          res.writeHead(303, { location: '/echo' });
          return res.end();
        }
        json(res, 200, { method: req.method, url: req.url });
      });
    });
    afterAll(async () => {
      await origin.close();
      await other.close();
    });
    beforeEach(() => {
      origin.requests.length = 0;
      other.requests.length = 0;
      other.connections = 0;
    });

    const allowedUrl = (path: string) => `http://allowed.test:${origin.port}${path}`;
    const httpRequest = requester({ allowedHosts: ['allowed.test', 'also-allowed.test'], resolve });

    it('a redirect from an allowed host to cloud metadata is refused, nothing connected there', async () => {
      redirectTo = 'http://169.254.169.254/latest/meta-data/';
      await refusal(httpRequest(get(allowedUrl('/away'))));
      expect(connectionAttempts).toEqual(['127.0.0.1']);
    });

    it('a redirect to a second local server that is not allowed is refused, nothing connected there', async () => {
      for (const target of [`http://127.0.0.1:${other.port}/secret`, `http://not-allowed.test:${other.port}/secret`, `http://localhost:${other.port}/`]) {
        redirectTo = target;
        await refusal(httpRequest(get(allowedUrl('/away'))));
      }
      expect(other.connections).toBe(0);
      expect(connectionAttempts).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    });

    it('a redirect to a scheme other than http(s) is refused', async () => {
      redirectTo = 'file:///etc/passwd';
      await refusal(httpRequest(get(allowedUrl('/away'))));
    });

    it('follows three redirects, and refuses a fourth', async () => {
      await expect(httpRequest(get(allowedUrl('/hop/3')))).resolves.toEqual({ arrived: true });
      const failure = await refusal(httpRequest(get(allowedUrl('/hop/4'))));
      expect(failure.message).toContain('more than 3 redirects');
      expect(origin.requests.map((request) => request.url)).toEqual(['/hop/3', '/hop/2', '/hop/1', '/hop/0', '/hop/4', '/hop/3', '/hop/2', '/hop/1']);
    });

    it('never forwards the scenario headers to another origin, keeps them on the same origin', async () => {
      const headers = { Authorization: 'Bearer partner-key', 'X-Api-Key': 'k-123' };
      redirectTo = `http://also-allowed.test:${other.port}/landing`;
      await httpRequest(get(allowedUrl('/away'), { headers }));
      const [landed] = other.requests;
      expect(landed.url).toBe('/landing');
      expect(landed.headers).not.toHaveProperty('authorization');
      expect(landed.headers).not.toHaveProperty('x-api-key');
      expect(origin.requests[0].headers).toMatchObject({ authorization: 'Bearer partner-key', 'x-api-key': 'k-123' });

      redirectTo = '/echo';
      await httpRequest(get(allowedUrl('/away'), { headers }));
      expect(origin.requests.at(-1)?.headers).toMatchObject({ authorization: 'Bearer partner-key', 'x-api-key': 'k-123' });
    });

    it('turns a POST into a GET without body on 303, and keeps method and body on 307', async () => {
      await expect(httpRequest({ method: 'POST', url: allowedUrl('/see-other'), body: { a: 1 } })).resolves.toEqual({ method: 'GET', url: '/echo' });
      expect(origin.requests.at(-1)).toMatchObject({ method: 'GET', body: '' });
      redirectTo = '/echo';
      await expect(httpRequest({ method: 'POST', url: allowedUrl('/away'), body: { a: 1 } })).resolves.toEqual({ method: 'POST', url: '/echo' });
      expect(origin.requests.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' });
    });
  });

  describe('replies and time', () => {
    let server: LocalServer;
    const httpRequest = requester({ allowedHosts: ['127.0.0.1'] });

    beforeAll(async () => {
      server = await startLocalServer((req, res) => {
        const big = JSON.stringify({ padding: 'x'.repeat(300 * 1024) });
        if (req.url === '/big') return json(res, 200, JSON.parse(big));
        if (req.url === '/big-chunked') {
          res.writeHead(200, { 'content-type': 'application/json' });
          for (let offset = 0; offset < big.length; offset += 16 * 1024) res.write(big.slice(offset, offset + 16 * 1024));
          return res.end();
        }
        if (req.url === '/exact') return res.end('x'.repeat(MAX_REPLY_BYTES));
        if (req.url === '/hang') return; // never answers
        if (req.url === '/stall-body') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.write('{"partial":');
        }
        if (req.url === '/host') return json(res, 200, { host: req.headers.host });
        json(res, 200, {});
      });
    });
    afterAll(() => server.close());

    it('a 300 KiB reply is refused, with or without a content-length', async () => {
      const declared = await refusal(httpRequest(get(`${server.url}/big`)));
      expect(declared.message).toContain('256 KiB');
      await refusal(httpRequest(get(`${server.url}/big-chunked`)));
    });

    it('a reply of exactly 256 KiB is kept', async () => {
      await expect(httpRequest(get(`${server.url}/exact`))).resolves.toHaveLength(MAX_REPLY_BYTES);
    });

    it('a server that never answers times out at timeout_ms', async () => {
      const started = Date.now();
      await expect(httpRequest(get(`${server.url}/hang`, { timeout_ms: 300 }))).rejects.toThrow('no reply within 300 ms');
      await expect(httpRequest(get(`${server.url}/stall-body`, { timeout_ms: 300 }))).rejects.toThrow('no reply within 300 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('a timeout_ms beyond the activity cap is cut to the cap', async () => {
      const started = Date.now();
      await expect(httpRequest(get(`${server.url}/hang`, { timeout_ms: 300_000 }))).rejects.toThrow(`no reply within ${MAX_TIMEOUT_MS} ms`);
      expect(Date.now() - started).toBeLessThan(MAX_TIMEOUT_MS + 3_000);
    }, 30_000);

    it('a scenario cannot choose the Host header or the framing', async () => {
      const reply = await httpRequest(
        get(`${server.url}/host`, { headers: { Host: 'temporal.internal', 'Transfer-Encoding': 'chunked', Connection: 'upgrade' } }),
      );
      expect(reply).toEqual({ host: `127.0.0.1:${server.port}` });
    });

    it('a header value with a line break fails for good instead of being retried', async () => {
      const error = await httpRequest(get(`${server.url}/host`, { headers: { 'X-Order': 'A1\r\nX-Injected: 1' } })).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ nonRetryable: true });
    });
  });
});

describe('HTTP_REQUEST_ALLOWED_HOSTS', () => {
  const env = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

  it('is empty unless set: no private address is reachable by default', () => {
    expect(loadConfig(env).httpRequest.allowedHosts).toEqual([]);
  });

  it('takes hosts in the form URL.hostname gives them, so they match the URL', () => {
    const config = loadConfig({ ...env, HTTP_REQUEST_ALLOWED_HOSTS: ' Orders.Internal.example ,10.0.4.12,::1,[fd00::5]' });
    expect(config.httpRequest.allowedHosts).toEqual(['orders.internal.example', '10.0.4.12', '[::1]', '[fd00::5]']);
  });

  test.each(['http://orders.internal', 'orders.internal:8080', 'orders.internal/api', 'user@orders.internal', 'two words'])(
    'refuses %s (not a bare host)',
    (entry) => {
      expect(() => loadConfig({ ...env, HTTP_REQUEST_ALLOWED_HOSTS: `ok.example,${entry}` })).toThrow(/HTTP_REQUEST_ALLOWED_HOSTS: .*not /);
    },
  );
});

// ---- Placeholders in URLs (engine and validation) ----

describe('placeholders in http_request URLs', () => {
  it('a placeholder in the host is refused at validation, with line and column', () => {
    const text = [
      '{',
      '  "version": "1.0",',
      '  "start_step": "ask",',
      '  "steps": {',
      '    "ask": {"type": "message", "message": {"text": "Path?"}, "expected_input": {"type": "text", "variable": "path"}, "next_step": "call"},',
      '    "call": {"type": "action", "action": {"type": "http_request", "url": "https://api.partner.example{{path}}", "variable": "r"}}',
      '  }',
      '}',
    ].join('\n');
    const result = validateScenarioText(text);
    expect(result.valid).toBe(false);
    const line = text.split('\n')[5];
    expect(result.errors).toEqual([
      expect.objectContaining({ code: 'invalid_url', path: '/steps/call/action/url', line: 6, column: line.indexOf('{{path}}') + 1 }),
    ]);
  });

  test.each([
    ['the scheme', '{{scheme}}://api.example.com/x'],
    ['the whole base', '{{api_base}}/orders/{{id}}'],
    ['the host after a user part', 'https://user@{{host}}/x'],
    ['the port', 'https://api.example.com:{{port}}/x'],
    ['a subdomain', 'https://{{tenant}}.example.com/x'],
    ['a scheme other than http(s)', 'ftp://files.example.com/{{id}}'],
    ['a relative URL', '/orders/{{id}}'],
    ['a path walking up', 'https://api.example.com/a/../admin/{{id}}'],
  ])('a URL template with a placeholder in or around %s is refused at validation', (_name, url) => {
    expect(checkUrlTemplate(url).ok).toBe(false);
  });

  test.each([
    'https://api.example.com/orders/{{id}}',
    'https://api.example.com?q={{q}}',
    'http://127.0.0.1:8080/x/{{a}}-{{b}}?c={{c}}#{{d}}',
    'https://api.example.com/static',
  ])('%s is accepted', (url) => {
    expect(checkUrlTemplate(url)).toEqual({ ok: true, origin: new URL(url.replace(/\{\{\w+\}\}/g, 'x')).origin });
  });

  test.each([
    ['@evil.example/x', 'https://api.partner.example/orders/%40evil.example%2Fx'],
    ['../../admin', 'https://api.partner.example/orders/..%2F..%2Fadmin'],
    ['..%2F..%2Fadmin', 'https://api.partner.example/orders/..%252F..%252Fadmin'],
    ['%2e%2e', 'https://api.partner.example/orders/%252e%252e'],
    ['x?admin=1#frag', 'https://api.partner.example/orders/x%3Fadmin%3D1%23frag'],
    ['evil.example:80', 'https://api.partner.example/orders/evil.example%3A80'],
    ['\\\\evil.example\\x', 'https://api.partner.example/orders/%5C%5Cevil.example%5Cx'],
  ])('a value %s is percent-encoded and the host stays', (value, expected) => {
    const rendered = renderUrlTemplate('https://api.partner.example/orders/{{path}}', { path: value });
    expect(rendered).toEqual({ ok: true, url: expected });
    if (rendered.ok) expect(new URL(rendered.url).host).toBe('api.partner.example');
  });

  test.each([
    ['..', 'https://api.partner.example/orders/{{path}}/status'],
    ['.', 'https://api.partner.example/orders/.{{path}}/status'],
    ['.', 'https://api.partner.example/orders/{{path}}{{path}}'],
  ])('a value %s that would make a dot segment of %s is refused (the URL parser would walk it)', (value, template) => {
    expect(renderUrlTemplate(template, { path: value })).toMatchObject({ ok: false, message: expect.stringContaining("'.' or '..'") });
  });

  it('a value that would make the URL longer than 8 KiB is refused', () => {
    expect(renderUrlTemplate('https://api.example.com/{{v}}', { v: '/'.repeat(3000) })).toMatchObject({ ok: false, message: expect.stringContaining('8192') });
  });

  it('a lone surrogate in a value does not throw', () => {
    expect(renderUrlTemplate('https://api.example.com/{{v}}', { v: 'a\uD800b' })).toEqual({ ok: true, url: 'https://api.example.com/a%EF%BF%BDb' });
  });

  describe('in a running dialog', () => {
    const scenario = (url: string, onError: string = 'sorry'): Scenario => ({
      version: '1.0',
      start_step: 'ask',
      steps: {
        ask: { id: 'ask', type: 'message', message: { text: 'Order?' }, expected_input: { type: 'text', variable: 'id' }, next_step: 'call' },
        call: {
          id: 'call',
          type: 'action',
          action: { type: 'http_request', url, variable: 'order', on_error_step: onError },
          message: { text: 'Got {{order}}' },
          next_step: null,
        },
        sorry: { id: 'sorry', type: 'message', message: { text: 'Lookup unavailable.' } },
      },
    });
    const answer = (text: string): EngineInput => ({ type: 'message', input: { kind: 'text', text } });
    const play = (target: Scenario, text: string) => advance(target, advance(target, initialState(), { type: 'start' }).state, answer(text));
    const sentTexts = (result: ReturnType<typeof advance>) => result.effects.flatMap((effect) => (effect.type === 'send' ? [effect.message.text] : []));
    const errors = (result: ReturnType<typeof advance>) =>
      result.effects.flatMap((effect) => (effect.type === 'event' && effect.event.kind === 'error' ? [effect.event] : []));

    it('an answer `@evil.example/x` keeps the request on the partner host', () => {
      const result = play(scenario('https://api.partner.example/orders/{{id}}'), '@evil.example/x');
      expect(result.effects.at(-1)).toMatchObject({ type: 'http_request', request: { url: 'https://api.partner.example/orders/%40evil.example%2Fx' } });
    });

    it('an answer `..` makes no request: http_request_refused, then on_error_step', () => {
      const result = play(scenario('https://api.partner.example/orders/{{id}}'), '..');
      expect(result.effects.some((effect) => effect.type === 'http_request')).toBe(false);
      expect(errors(result)).toEqual([expect.objectContaining({ code: 'http_request_refused', step: 'call' })]);
      expect(sentTexts(result)).toEqual(['Lookup unavailable.']);
      expect(result.state.collectedData.order).toBeNull();
    });

    it('a stored scenario with a placeholder host (saved before validation refused it) makes no request', () => {
      const result = play(scenario('{{id}}/latest/meta-data/'), 'http://169.254.169.254');
      expect(result.effects.some((effect) => effect.type === 'http_request')).toBe(false);
      expect(errors(result)).toEqual([expect.objectContaining({ code: 'http_request_refused' })]);
      expect(sentTexts(result)).toEqual(['Lookup unavailable.']);
    });

    it('a refused step whose on_error_step is itself stops after max_auto_transitions, it does not spin', () => {
      const result = play(scenario('https://api.partner.example/orders/{{id}}', 'call'), '..');
      expect(result.state.status).toBe('failed');
      expect(errors(result).at(-1)).toMatchObject({ code: 'max_auto_transitions' });
    });

    it('a refusal reported by the activity is recorded as http_request_refused', () => {
      const target = scenario('https://api.partner.example/orders/{{id}}');
      const waiting = play(target, 'A1');
      const result = advance(target, waiting.state, {
        type: 'action_result',
        step: 'call',
        ok: false,
        error: 'refused by the egress policy',
        code: 'http_request_refused',
      });
      expect(errors(result)).toEqual([expect.objectContaining({ code: 'http_request_refused' })]);
      expect(sentTexts(result)).toEqual(['Lookup unavailable.']);
    });
  });
});

// ---- End to end: webhook → workflow → activity → chat ----

describe.each(DB_KINDS)('a scenario fetching a loopback secret, end to end on %s', (dbKind) => {
  let stack: Stack;
  let tg: FakeTelegram;
  let secret: LocalServer;
  let updates = 0;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    secret = await startLocalServer((req, res) => json(res, 200, { secret: 'TEMPORAL-UI-DIALOG-LIST', path: req.url }));
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
    await secret?.close();
  });

  const lookupScenario = () => ({
    version: '1.0',
    name: 'Lookup',
    start_step: 'ask',
    steps: {
      ask: { id: 'ask', type: 'message', message: { text: 'Order?' }, expected_input: { type: 'text', variable: 'order_id' }, next_step: 'lookup' },
      lookup: {
        id: 'lookup',
        type: 'action',
        action: {
          type: 'http_request',
          url: `http://127.0.0.1:${secret.port}/orders/{{order_id}}`,
          variable: 'order',
          timeout_ms: 3000,
          on_error_step: 'sorry',
        },
        message: { text: 'Reply: {{order}}' },
        next_step: null,
      },
      sorry: { id: 'sorry', type: 'message', message: { text: 'Lookup unavailable.' } },
    },
  });

  const say = async (bot: { id: string; webhookSecret?: string }, chat: number, text: string) => {
    updates += 1;
    const update = telegramUpdate({ updateId: (Date.now() % 1_000_000_000) + updates, chatId: chat, text, secret: bot.webhookSecret });
    const response = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    expect(response.status).toBe(200);
  };
  const textsTo = (chat: number) =>
    tg
      .callsTo('sendMessage')
      .filter((call) => String(call.body.chat_id) === String(chat))
      .map((call) => call.body.text as string);
  const waitForTexts = (chat: number, count: number) =>
    eventually(() => textsTo(chat).length >= count || undefined, 20_000, `${count} messages to chat ${chat}`);
  const errorEvents = async (botId: string) => {
    const rows: { data: unknown }[] = await stack.db('dialog_events').where({ bot_id: botId, kind: 'error' });
    return rows.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as { code: string; message: string });
  };

  it('the chat gets the on_error_step message, never the secret; an http_request_refused event is stored', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-egress' }, scenario: lookupScenario() });
    const chat = 7101;
    await say(bot, chat, '/start');
    await waitForTexts(chat, 1);
    await say(bot, chat, 'A1');
    await waitForTexts(chat, 2);
    expect(textsTo(chat)).toEqual(['Order?', 'Lookup unavailable.']);
    const events = await eventually(
      async () => {
        const found = await errorEvents(bot.id);
        return found.length > 0 ? found : undefined;
      },
      10_000,
      'the error event',
    );
    expect(events).toEqual([expect.objectContaining({ code: 'http_request_refused' })]);
    expect(JSON.stringify(tg.calls)).not.toContain('TEMPORAL-UI-DIALOG-LIST');
    expect(secret.connections).toBe(0);
  });

  it('with HTTP_REQUEST_ALLOWED_HOSTS=127.0.0.1 the same scenario reaches it, placeholders encoded', async () => {
    await stack.stopWorker();
    stack.config.httpRequest.allowedHosts = ['127.0.0.1'];
    await stack.startWorker();
    try {
      const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-egress' }, scenario: lookupScenario() });
      const chat = 7102;
      await say(bot, chat, '/start');
      await waitForTexts(chat, 1);
      await say(bot, chat, '../../api/v1/namespaces');
      await waitForTexts(chat, 2);
      expect(textsTo(chat)[1]).toBe('Reply: {"secret":"TEMPORAL-UI-DIALOG-LIST","path":"/orders/..%2F..%2Fapi%2Fv1%2Fnamespaces"}');
      expect(await errorEvents(bot.id)).toEqual([]);
    } finally {
      await stack.stopWorker();
      stack.config.httpRequest.allowedHosts = [];
      await stack.startWorker();
    }
  });
});
