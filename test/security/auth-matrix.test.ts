/**
 * Issue #4: the auth matrix against the REAL server (startServer, a real socket), not inject():
 * loopback and non-loopback clients × token set/unset × read/write, plus CORS preflights.
 *
 * The non-loopback client is curl inside a network namespace (np<pid>c) joined to the root namespace by a
 * veth pair: the server, in the root namespace on 0.0.0.0, sees it as 10.201.x.2. Those cases are skipped
 * (with the reason) when not root or when ip/curl are missing; the loopback cases always run.
 *
 * Every server has its collector stopped after start, so the database only changes when a write is
 * accepted: a refused write is checked to change nothing (the two config GETs and every table).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  createClientNamespace,
  httpRequest,
  namespaceSkipReason,
  snapshotDatabase,
  startSecurityServer,
  type ClientNamespace,
  type CleanupScope,
  type SecurityServer,
} from '../helpers/security-net.js';

const TOKEN = 'matrix-token-4f1e9b2c7d';
const WRONG_TOKEN = 'matrix-token-00000000000';

interface Write {
  label: string;
  method: 'POST' | 'PUT';
  path: string;
  body?: unknown;
}

/** Valid and harmless: they leave configuration as it was (monitored set unchanged, interval 60 as the env says). */
const HARMLESS_WRITES: Write[] = [
  { label: 'PUT /api/config/collection-interval 60', method: 'PUT', path: '/api/config/collection-interval', body: { interval_seconds: 60 } },
  { label: 'POST /api/config/monitored_interfaces [eth0, wlan0]', method: 'POST', path: '/api/config/monitored_interfaces', body: ['eth0', 'wlan0'] },
  { label: 'POST /collector/collect', method: 'POST', path: '/collector/collect' },
];

/** Valid writes that WOULD change something if accepted: sent where they must be refused. */
const CHANGING_WRITES: Write[] = [
  { label: 'PUT /api/config/collection-interval 120', method: 'PUT', path: '/api/config/collection-interval', body: { interval_seconds: 120 } },
  { label: 'POST /api/config/monitored_interfaces [wlan0]', method: 'POST', path: '/api/config/monitored_interfaces', body: ['wlan0'] },
  { label: 'PUT /api/config/interfaces { interfaces: [lo] }', method: 'PUT', path: '/api/config/interfaces', body: { interfaces: ['lo'] } },
  { label: 'POST /collector/collect', method: 'POST', path: '/collector/collect' },
  { label: 'POST /collector/start', method: 'POST', path: '/collector/start' },
];

const READS = ['/api/config/monitored_interfaces', '/api/config/collection-interval', '/api/interfaces', '/api/interfaces/eth0/stats', '/api/traffic/latest', '/collector/status', '/health'];

interface Answer {
  status: number;
  json: unknown;
  text: string;
  headers?: Record<string, string | string[] | undefined>;
}

type Client = (method: string, path: string, options?: { headers?: Record<string, string>; body?: unknown }) => Promise<Answer>;

function loopbackClient(srv: SecurityServer): Client {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await httpRequest({ method, url: srv.url + path, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, json: res.json, text: res.text, headers: res.headers };
  };
}

function remoteClient(ns: ClientNamespace, srv: SecurityServer): Client {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await ns.curl({ method, url: `http://${ns.serverAddress}:${srv.port}${path}`, headers, ...(body !== undefined ? { body } : {}) });
    if (res.exitCode !== 0) throw new Error(`curl from ${ns.name} to ${ns.serverAddress}:${srv.port}${path} failed with exit code ${res.exitCode}`);
    return { status: res.status, json: res.json, text: res.text };
  };
}

/** What a refused write must leave alone: the two config answers and every stored row. */
async function stateOf(srv: SecurityServer) {
  const local = loopbackClient(srv);
  const monitored = await local('GET', '/api/config/monitored_interfaces');
  const interval = await local('GET', '/api/config/collection-interval');
  const status = (await local('GET', '/collector/status')).json as { running: boolean; polls: number };
  return {
    monitored: monitored.json,
    interval: interval.json,
    collector: { running: status.running, polls: status.polls },
    tables: snapshotDatabase(srv.dbPath),
  };
}

function assertError(answer: Answer, status: number, code: string, context: string): { message: string } {
  assert.equal(answer.status, status, `${context}: ${answer.text}`);
  const body = answer.json as { statusCode?: number; code?: string; error?: string; message?: string };
  assert.equal(body?.code, code, `${context}: ${answer.text}`);
  assert.equal(body.statusCode, status, context);
  assert.equal(typeof body.error, 'string', context);
  assert.equal(typeof body.message, 'string', context);
  return { message: body.message! };
}

async function assertRefusedChangesNothing(srv: SecurityServer, client: Client, write: Write, headers: Record<string, string>, expected: { status: number; code: string }, context: string): Promise<Answer> {
  const before = await stateOf(srv);
  const answer = await client(write.method, write.path, { headers, body: write.body });
  assertError(answer, expected.status, expected.code, `${context}: ${write.label}`);
  assert.deepEqual(await stateOf(srv), before, `${context}: ${write.label} was refused but changed stored state`);
  return answer;
}

function assertAccepted(answer: Answer, write: Write, context: string): void {
  assert.equal(answer.status, 200, `${context}: ${write.label}: ${answer.text}`);
  if (write.path === '/api/config/monitored_interfaces') assert.deepEqual(answer.json, ['eth0', 'wlan0']);
  if (write.path === '/api/config/collection-interval') assert.equal((answer.json as { interval_seconds: number }).interval_seconds, 60);
  if (write.path === '/collector/collect') assert.equal(typeof (answer.json as { baseline: boolean }).baseline, 'boolean');
}

/** A server whose collector is stopped (by a loopback write, with the token when one is set). */
async function startQuietServer(scope: CleanupScope, env: Record<string, string | undefined>): Promise<SecurityServer> {
  const srv = await startSecurityServer(scope, env);
  const headers: Record<string, string> = env.NETPULSE_AUTH_TOKEN ? { authorization: `Bearer ${env.NETPULSE_AUTH_TOKEN}` } : {};
  const stopped = await loopbackClient(srv)('POST', '/collector/stop', { headers });
  assert.equal(stopped.status, 200, stopped.text);
  assert.equal((stopped.json as { running: boolean }).running, false);
  return srv;
}

/** Collects cleanups registered during a describe's before hook; runs them, newest first, in its after hook. */
function suiteScope(): CleanupScope & { run(): Promise<void> } {
  const fns: (() => unknown)[] = [];
  return {
    after: (fn) => fns.push(fn),
    async run() {
      for (const fn of fns.reverse()) await fn();
    },
  };
}

const nsSkip = namespaceSkipReason();
let ns: ClientNamespace | null = null;
const nsScope = suiteScope();

before(async () => {
  if (nsSkip === null) ns = await createClientNamespace(nsScope);
});
after(() => nsScope.run());

/** The namespace, or null after t.skip(reason). */
function needNamespace(t: TestContext): ClientNamespace | null {
  if (ns === null) {
    t.skip(`no non-loopback client: ${nsSkip ?? 'namespace not created'}`);
    return null;
  }
  return ns;
}

describe('no token, server on 0.0.0.0', () => {
  const scope = suiteScope();
  let srv: SecurityServer;
  before(async () => {
    srv = await startQuietServer(scope, { NETPULSE_HOST: '0.0.0.0', NETPULSE_AUTH_TOKEN: undefined });
  });
  after(() => scope.run());

  test('a loopback client reads every endpoint with 200', async () => {
    for (const path of READS) {
      const answer = await loopbackClient(srv)('GET', path);
      assert.equal(answer.status, 200, `GET ${path}: ${answer.text}`);
    }
  });

  test('a loopback client writes with 200', async () => {
    for (const write of HARMLESS_WRITES) assertAccepted(await loopbackClient(srv)(write.method, write.path, { body: write.body }), write, 'loopback, no token');
  });

  test('a non-loopback client reads every endpoint with 200', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    for (const path of READS) {
      const answer = await remoteClient(client, srv)('GET', path);
      assert.equal(answer.status, 200, `GET ${path} from ${client.clientAddress}: ${answer.text}`);
    }
  });

  test('a non-loopback write gets 403 REMOTE_WRITE_FORBIDDEN naming NETPULSE_AUTH_TOKEN and changes nothing', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    for (const write of CHANGING_WRITES) {
      const answer = await assertRefusedChangesNothing(srv, remoteClient(client, srv), write, {}, { status: 403, code: 'REMOTE_WRITE_FORBIDDEN' }, `from ${client.clientAddress}`);
      assert.match((answer.json as { message: string }).message, /NETPULSE_AUTH_TOKEN/);
    }
  });

  test('a non-loopback write claiming X-Forwarded-For 127.0.0.1 is still refused', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    const headers = { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' };
    await assertRefusedChangesNothing(srv, remoteClient(client, srv), CHANGING_WRITES[0]!, headers, { status: 403, code: 'REMOTE_WRITE_FORBIDDEN' }, 'forwarded headers');
  });

  test('a non-loopback write with a made-up Bearer token is refused while no token is set', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    await assertRefusedChangesNothing(srv, remoteClient(client, srv), CHANGING_WRITES[1]!, { authorization: `Bearer ${TOKEN}` }, { status: 403, code: 'REMOTE_WRITE_FORBIDDEN' }, 'unsolicited token');
  });
});

describe('token set, server on 0.0.0.0', () => {
  const scope = suiteScope();
  let srv: SecurityServer;
  before(async () => {
    srv = await startQuietServer(scope, { NETPULSE_HOST: '0.0.0.0', NETPULSE_AUTH_TOKEN: TOKEN });
  });
  after(() => scope.run());

  const clients: { side: 'loopback' | 'non-loopback'; make: (t: TestContext) => Client | null }[] = [
    { side: 'loopback', make: () => loopbackClient(srv) },
    {
      side: 'non-loopback',
      make: (t) => {
        const client = needNamespace(t);
        return client === null ? null : remoteClient(client, srv);
      },
    },
  ];

  for (const { side, make } of clients) {
    test(`a ${side} client reads every endpoint with 200 and no token`, async (t) => {
      const client = make(t);
      if (client === null) return;
      for (const path of READS) {
        const answer = await client('GET', path);
        assert.equal(answer.status, 200, `GET ${path}: ${answer.text}`);
      }
    });

    test(`a ${side} write without a token gets 401 TOKEN_REQUIRED and changes nothing`, async (t) => {
      const client = make(t);
      if (client === null) return;
      for (const write of CHANGING_WRITES) {
        const answer = await assertRefusedChangesNothing(srv, client, write, {}, { status: 401, code: 'TOKEN_REQUIRED' }, side);
        if (answer.headers) assert.match(String(answer.headers['www-authenticate']), /^Bearer /);
      }
    });

    test(`a ${side} write with a wrong token gets 401 TOKEN_INVALID and changes nothing`, async (t) => {
      const client = make(t);
      if (client === null) return;
      for (const write of CHANGING_WRITES) {
        await assertRefusedChangesNothing(srv, client, write, { authorization: `Bearer ${WRONG_TOKEN}` }, { status: 401, code: 'TOKEN_INVALID' }, side);
      }
      // The token must be the Authorization header's Bearer credential, nothing else.
      await assertRefusedChangesNothing(srv, client, CHANGING_WRITES[0]!, { authorization: `Basic ${TOKEN}` }, { status: 401, code: 'TOKEN_REQUIRED' }, `${side}, Basic scheme`);
      await assertRefusedChangesNothing(srv, client, CHANGING_WRITES[0]!, { 'x-auth-token': TOKEN }, { status: 401, code: 'TOKEN_REQUIRED' }, `${side}, token in another header`);
      await assertRefusedChangesNothing(srv, client, CHANGING_WRITES[0]!, { authorization: `Bearer ${TOKEN}x` }, { status: 401, code: 'TOKEN_INVALID' }, `${side}, token with a suffix`);
    });

    test(`a ${side} write with the right token gets 200`, async (t) => {
      const client = make(t);
      if (client === null) return;
      for (const write of HARMLESS_WRITES) {
        assertAccepted(await client(write.method, write.path, { headers: { authorization: `Bearer ${TOKEN}` }, body: write.body }), write, side);
      }
    });
  }
});

describe('no token, server on 127.0.0.1', () => {
  const scope = suiteScope();
  let srv: SecurityServer;
  before(async () => {
    srv = await startQuietServer(scope, { NETPULSE_HOST: '127.0.0.1', NETPULSE_AUTH_TOKEN: undefined });
  });
  after(() => scope.run());

  test('a loopback client reads and writes with 200', async () => {
    const client = loopbackClient(srv);
    assert.equal((await client('GET', '/api/config/monitored_interfaces')).status, 200);
    for (const write of HARMLESS_WRITES) assertAccepted(await client(write.method, write.path, { body: write.body }), write, 'loopback bind');
  });

  test('a non-loopback client cannot connect at all', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    for (const method of ['GET', 'POST']) {
      const answer = await client.curl({ method, url: `http://${client.serverAddress}:${srv.port}/collector/collect`, timeoutSec: 5 });
      assert.equal(answer.status, 0, `${method} got an HTTP answer: ${answer.text}`);
      assert.equal(answer.exitCode, 7, `curl exit code ${answer.exitCode}, expected 7 (could not connect)`);
    }
  });
});

describe('CORS against the real server', () => {
  const DASH = 'https://dash.example';
  const EVIL = 'https://evil.example';
  const scope = suiteScope();
  let open: SecurityServer;
  let closed: SecurityServer;
  before(async () => {
    open = await startQuietServer(scope, { NETPULSE_HOST: '0.0.0.0', NETPULSE_CORS_ORIGINS: DASH, NETPULSE_AUTH_TOKEN: TOKEN });
    closed = await startQuietServer(scope, { NETPULSE_HOST: '127.0.0.1', NETPULSE_CORS_ORIGINS: undefined });
  });
  after(() => scope.run());

  const preflight = (origin: string, method = 'PUT') => ({ origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' });

  test('a preflight from the listed origin gets Access-Control-Allow-Origin for it', async () => {
    const answer = await loopbackClient(open)('OPTIONS', '/api/config/collection-interval', { headers: preflight(DASH) });
    assert.ok(answer.status >= 200 && answer.status < 300, `status ${answer.status}: ${answer.text}`);
    assert.equal(answer.headers?.['access-control-allow-origin'], DASH);
    assert.match(String(answer.headers?.['access-control-allow-methods']), /\bPUT\b/);
    assert.match(String(answer.headers?.['access-control-allow-headers']).toLowerCase(), /authorization/);
  });

  test('a preflight from another origin gets no Access-Control-Allow-Origin and 403 CORS_ORIGIN_FORBIDDEN', async () => {
    for (const origin of [EVIL, 'https://dash.example.evil.example', 'http://dash.example', 'https://dash.example:8443', 'null']) {
      const answer = await loopbackClient(open)('OPTIONS', '/api/config/collection-interval', { headers: preflight(origin) });
      assert.equal(answer.headers?.['access-control-allow-origin'], undefined, `${origin} was allowed`);
      assertError(answer, 403, 'CORS_ORIGIN_FORBIDDEN', `preflight from ${origin}`);
    }
  });

  test('a read from the listed origin carries its Access-Control-Allow-Origin; from another origin none', async () => {
    const fromDash = await loopbackClient(open)('GET', '/api/interfaces', { headers: { origin: DASH } });
    assert.equal(fromDash.status, 200);
    assert.equal(fromDash.headers?.['access-control-allow-origin'], DASH);
    const fromEvil = await loopbackClient(open)('GET', '/api/interfaces', { headers: { origin: EVIL } });
    assert.equal(fromEvil.headers?.['access-control-allow-origin'], undefined);
  });

  test('a preflight from a non-loopback client follows the same origin rule', async (t) => {
    const client = needNamespace(t);
    if (client === null) return;
    const url = `http://${client.serverAddress}:${open.port}/api/config/collection-interval`;
    const dash = await client.curl({ method: 'OPTIONS', url, headers: preflight(DASH) });
    assert.ok(dash.status >= 200 && dash.status < 300, `status ${dash.status}: ${dash.text}`);
    const evil = await client.curl({ method: 'OPTIONS', url, headers: preflight(EVIL) });
    assert.equal(evil.status, 403, evil.text);
    assert.equal((evil.json as { code: string }).code, 'CORS_ORIGIN_FORBIDDEN');
  });

  test('a write from an unlisted origin is refused even with the right token, and changes nothing', async () => {
    await assertRefusedChangesNothing(open, loopbackClient(open), CHANGING_WRITES[0]!, { origin: EVIL, authorization: `Bearer ${TOKEN}` }, { status: 403, code: 'CROSS_ORIGIN_WRITE_FORBIDDEN' }, 'cross-origin with token');
  });

  test('a write from the listed origin with the right token gets 200', async () => {
    const write = HARMLESS_WRITES[0]!;
    assertAccepted(await loopbackClient(open)(write.method, write.path, { headers: { origin: DASH, authorization: `Bearer ${TOKEN}` }, body: write.body }), write, 'listed origin');
  });

  test('without NETPULSE_CORS_ORIGINS a preflight from any origin is refused', async () => {
    const answer = await loopbackClient(closed)('OPTIONS', '/api/config/collection-interval', { headers: preflight(DASH) });
    assert.equal(answer.headers?.['access-control-allow-origin'], undefined);
    assertError(answer, 403, 'CORS_ORIGIN_FORBIDDEN', 'closed CORS');
  });

  test('a cross-site write to a loopback server with no token is refused and changes nothing (CSRF)', async () => {
    for (const write of CHANGING_WRITES) {
      await assertRefusedChangesNothing(closed, loopbackClient(closed), write, { origin: EVIL }, { status: 403, code: 'CROSS_ORIGIN_WRITE_FORBIDDEN' }, 'CSRF');
    }
  });

  test('a DNS-rebound write (Origin host equals Host, not loopback) to a loopback server is refused', async () => {
    await assertRefusedChangesNothing(closed, loopbackClient(closed), CHANGING_WRITES[1]!, { origin: `http://evil.example:${closed.port}`, host: `evil.example:${closed.port}` }, { status: 403, code: 'CROSS_ORIGIN_WRITE_FORBIDDEN' }, 'DNS rebinding');
  });
});
