import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  CONTENT_SECURITY_POLICY,
  DOCS_CONTENT_SECURITY_POLICY,
  SECURITY_BODY_LIMIT_BYTES,
  isLoopbackAddress,
  isLoopbackBind,
  registerSecurity,
  tokensMatch,
  type SecurityOptions,
} from '../../src/api/security.js';

const TOKEN = 'correct-horse-battery-staple';
const REMOTE = '10.0.0.5';

async function buildTestApp(t: TestContext, options: Partial<SecurityOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: SECURITY_BODY_LIMIT_BYTES });
  await registerSecurity(app, { host: '127.0.0.1', authToken: null, corsOrigins: [], ...options });
  app.get('/api/x', async () => ({ ok: 'read' }));
  app.post('/api/x', async () => ({ ok: 'write' }));
  app.put('/api/y', async () => ({ ok: 'put' }));
  app.get('/docs', async (_request, reply) => reply.type('text/html').send('<html></html>'));
  t.after(() => app.close());
  await app.ready();
  return app;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

describe('write access matrix (client × token × method)', () => {
  const cases: Array<{
    name: string;
    host: string;
    authToken: string | null;
    remoteAddress: string;
    method: 'GET' | 'POST' | 'PUT';
    headers?: Record<string, string>;
    status: number;
    code?: string;
  }> = [
    // loopback bind, no token: everything works from this machine
    { name: 'loopback client reads with no token set', host: '127.0.0.1', authToken: null, remoteAddress: '127.0.0.1', method: 'GET', status: 200 },
    { name: 'loopback client writes with no token set', host: '127.0.0.1', authToken: null, remoteAddress: '127.0.0.1', method: 'POST', status: 200 },
    { name: 'IPv6 loopback client writes with no token set', host: '127.0.0.1', authToken: null, remoteAddress: '::1', method: 'PUT', status: 200 },
    // listening beyond loopback, no token: remote writes refused, remote reads fine, local writes fine
    { name: 'remote client reads on a 0.0.0.0 server with no token', host: '0.0.0.0', authToken: null, remoteAddress: REMOTE, method: 'GET', status: 200 },
    { name: 'remote client POST is forbidden on a 0.0.0.0 server with no token', host: '0.0.0.0', authToken: null, remoteAddress: REMOTE, method: 'POST', status: 403, code: 'REMOTE_WRITE_FORBIDDEN' },
    { name: 'remote client PUT is forbidden on a :: server with no token', host: '::', authToken: null, remoteAddress: 'fd00::5', method: 'PUT', status: 403, code: 'REMOTE_WRITE_FORBIDDEN' },
    { name: 'loopback client writes on a 0.0.0.0 server with no token', host: '0.0.0.0', authToken: null, remoteAddress: '127.0.0.1', method: 'POST', status: 200 },
    { name: 'IPv4-mapped loopback client writes on a 0.0.0.0 server with no token', host: '0.0.0.0', authToken: null, remoteAddress: '::ffff:127.0.0.1', method: 'POST', status: 200 },
    { name: 'IPv4-mapped remote client is not loopback', host: '0.0.0.0', authToken: null, remoteAddress: '::ffff:10.0.0.5', method: 'POST', status: 403, code: 'REMOTE_WRITE_FORBIDDEN' },
    // token set: every write needs it, loopback included; reads never do
    { name: 'remote client reads without the token when one is set', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'GET', status: 200 },
    { name: 'remote client write without a token gets TOKEN_REQUIRED', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', status: 401, code: 'TOKEN_REQUIRED' },
    { name: 'loopback client write without a token gets TOKEN_REQUIRED when one is set', host: '127.0.0.1', authToken: TOKEN, remoteAddress: '127.0.0.1', method: 'PUT', status: 401, code: 'TOKEN_REQUIRED' },
    { name: 'remote client writes with the right token', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: bearer(TOKEN), status: 200 },
    { name: 'loopback client writes with the right token', host: '127.0.0.1', authToken: TOKEN, remoteAddress: '127.0.0.1', method: 'PUT', headers: bearer(TOKEN), status: 200 },
    { name: 'a wrong token of the same length gets TOKEN_INVALID', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: bearer(TOKEN.replace(/.$/, 'X')), status: 401, code: 'TOKEN_INVALID' },
    { name: 'a shorter wrong token gets TOKEN_INVALID, not a crash', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: bearer('x'), status: 401, code: 'TOKEN_INVALID' },
    { name: 'a longer wrong token gets TOKEN_INVALID, not a crash', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: bearer(TOKEN.repeat(20)), status: 401, code: 'TOKEN_INVALID' },
    { name: 'a Basic Authorization header gets TOKEN_REQUIRED', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: { authorization: `Basic ${TOKEN}` }, status: 401, code: 'TOKEN_REQUIRED' },
    { name: 'an empty Bearer header gets TOKEN_REQUIRED', host: '0.0.0.0', authToken: TOKEN, remoteAddress: REMOTE, method: 'POST', headers: { authorization: 'Bearer ' }, status: 401, code: 'TOKEN_REQUIRED' },
    { name: 'an X-Forwarded-For loopback address does not make a remote client local', host: '0.0.0.0', authToken: null, remoteAddress: REMOTE, method: 'POST', headers: { 'x-forwarded-for': '127.0.0.1' }, status: 403, code: 'REMOTE_WRITE_FORBIDDEN' },
  ];

  for (const c of cases) {
    test(c.name, async (t) => {
      const app = await buildTestApp(t, { host: c.host, authToken: c.authToken });
      const response = await app.inject({
        method: c.method,
        url: c.method === 'PUT' ? '/api/y' : '/api/x',
        remoteAddress: c.remoteAddress,
        headers: c.headers ?? {},
        ...(c.method === 'GET' ? {} : { payload: { any: 'thing' } }),
      });
      assert.equal(response.statusCode, c.status, response.body);
      if (c.code !== undefined) {
        const body = response.json();
        assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
        assert.equal(body.statusCode, c.status);
        assert.equal(body.code, c.code);
        assert.equal(typeof body.error, 'string');
        assert.ok(body.error.length > 0);
      }
    });
  }

  test('the REMOTE_WRITE_FORBIDDEN message names NETPULSE_AUTH_TOKEN', async (t) => {
    const app = await buildTestApp(t, { host: '0.0.0.0' });
    const response = await app.inject({ method: 'POST', url: '/api/x', remoteAddress: REMOTE, payload: {} });
    assert.match(response.json().message, /NETPULSE_AUTH_TOKEN/);
  });

  test('a refused write carries a WWW-Authenticate Bearer challenge', async (t) => {
    const app = await buildTestApp(t, { authToken: TOKEN });
    const response = await app.inject({ method: 'POST', url: '/api/x', payload: {} });
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['www-authenticate']), /^Bearer /);
  });

  test('a write to an unknown route is checked before the 404', async (t) => {
    const app = await buildTestApp(t, { authToken: TOKEN });
    const refused = await app.inject({ method: 'POST', url: '/api/nope', payload: {} });
    assert.equal(refused.statusCode, 401);
    const allowed = await app.inject({ method: 'POST', url: '/api/nope', headers: bearer(TOKEN), payload: {} });
    assert.equal(allowed.statusCode, 404);
  });
});

describe('tokensMatch and address helpers', () => {
  test('tokensMatch accepts the same token and refuses others of any length', () => {
    assert.equal(tokensMatch(TOKEN, TOKEN), true);
    assert.equal(tokensMatch('', TOKEN), false);
    assert.equal(tokensMatch('a', TOKEN), false);
    assert.equal(tokensMatch(TOKEN + TOKEN, TOKEN), false);
    assert.equal(tokensMatch(TOKEN.toUpperCase(), TOKEN), false);
  });

  test('isLoopbackAddress knows 127.0.0.0/8, ::1 and mapped 127.x, nothing else', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '0:0::1', '::ffff:127.0.0.1', '0:0:0:0:0:ffff:127.1.2.3', '::ffff:7f00:1', '[::1]', '[::1%lo]']) {
      assert.equal(isLoopbackAddress(a), true, a);
    }
    for (const a of ['10.0.0.5', '0.0.0.0', '::', '::ffff:10.0.0.5', '::ffff:a00:5', '::127.0.0.1', 'fe80::1', '128.0.0.1', 'localhost', '', undefined]) {
      assert.equal(isLoopbackAddress(a), false, String(a));
    }
  });

  test('isLoopbackBind treats localhost and loopback IPs as local and wildcards as exposed', () => {
    assert.equal(isLoopbackBind('127.0.0.1'), true);
    assert.equal(isLoopbackBind('localhost'), true);
    assert.equal(isLoopbackBind('::1'), true);
    assert.equal(isLoopbackBind('0.0.0.0'), false);
    assert.equal(isLoopbackBind('::'), false);
    assert.equal(isLoopbackBind('192.168.1.10'), false);
  });
});

describe('browser origins', () => {
  const DASH = 'https://dash.example.org';

  test('a preflight from a listed origin is answered with CORS headers for Authorization', async (t) => {
    const app = await buildTestApp(t, { corsOrigins: [DASH] });
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/api/x',
      headers: { origin: DASH, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(response.statusCode, 204);
    assert.equal(response.headers['access-control-allow-origin'], DASH);
    assert.match(String(response.headers['access-control-allow-headers']), /Authorization/);
    assert.match(String(response.headers['access-control-allow-methods']), /PUT/);
  });

  test('a preflight from an unlisted origin gets 403 CORS_ORIGIN_FORBIDDEN', async (t) => {
    const app = await buildTestApp(t, { corsOrigins: [DASH] });
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/api/x',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().code, 'CORS_ORIGIN_FORBIDDEN');
    assert.match(response.json().message, /NETPULSE_CORS_ORIGINS/);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });

  test('CORS is closed by default: a preflight is refused and reads carry no allow-origin', async (t) => {
    const app = await buildTestApp(t);
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/x',
      headers: { origin: DASH, 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.statusCode, 403);
    const read = await app.inject({ method: 'GET', url: '/api/x', headers: { origin: DASH } });
    assert.equal(read.statusCode, 200);
    assert.equal(read.headers['access-control-allow-origin'], undefined);
  });

  test('a listed origin matches exactly: scheme and port count', async (t) => {
    const app = await buildTestApp(t, { corsOrigins: [DASH] });
    const read = await app.inject({ method: 'GET', url: '/api/x', headers: { origin: 'http://dash.example.org' } });
    assert.equal(read.headers['access-control-allow-origin'], undefined);
    const ok = await app.inject({ method: 'GET', url: '/api/x', headers: { origin: DASH } });
    assert.equal(ok.headers['access-control-allow-origin'], DASH);
  });

  test('registerSecurity refuses a wildcard or a path in the origin list', async () => {
    for (const bad of ['*', 'https://dash.example.org/app', 'ftp://x.example']) {
      const app = Fastify();
      await assert.rejects(registerSecurity(app, { host: '127.0.0.1', authToken: null, corsOrigins: [bad] }), /NETPULSE_CORS_ORIGINS/);
      await app.close();
    }
  });

  test('a write from another site is refused even from a loopback client with no token (CSRF)', async (t) => {
    const app = await buildTestApp(t);
    const response = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { origin: 'https://evil.example', host: '127.0.0.1:8000' },
      payload: {},
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().code, 'CROSS_ORIGIN_WRITE_FORBIDDEN');
  });

  test('a write from the dashboard on its own origin is allowed', async (t) => {
    const app = await buildTestApp(t);
    const response = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { origin: 'http://127.0.0.1:8000', host: '127.0.0.1:8000' },
      payload: {},
    });
    assert.equal(response.statusCode, 200);
  });

  test('a DNS-rebound page is refused by a loopback-bound server though Origin matches Host', async (t) => {
    const app = await buildTestApp(t);
    const response = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { origin: 'http://evil.example:8000', host: 'evil.example:8000' },
      payload: {},
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().code, 'CROSS_ORIGIN_WRITE_FORBIDDEN');
  });

  test('a write from a listed origin passes the origin check', async (t) => {
    const app = await buildTestApp(t, { corsOrigins: [DASH], authToken: TOKEN });
    const response = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { origin: DASH, host: '127.0.0.1:8000', ...bearer(TOKEN) },
      payload: {},
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['access-control-allow-origin'], DASH);
  });
});

describe('security headers', () => {
  test('every response carries the CSP and the usual headers', async (t) => {
    const app = await buildTestApp(t);
    for (const url of ['/api/x', '/missing']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.headers['content-security-policy'], CONTENT_SECURITY_POLICY, url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
      assert.equal(response.headers['x-frame-options'], 'DENY');
      assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin');
      assert.match(String(response.headers['permissions-policy']), /camera=\(\)/);
    }
  });

  test('the page CSP never allows inline or eval scripts and forbids framing', () => {
    const scriptSrc = CONTENT_SECURITY_POLICY.split('; ').find((d) => d.startsWith('script-src '));
    assert.equal(scriptSrc, "script-src 'self'");
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /object-src 'none'/);
  });

  test('refused requests carry the headers too', async (t) => {
    const app = await buildTestApp(t, { authToken: TOKEN });
    const response = await app.inject({ method: 'POST', url: '/api/x', payload: {} });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(response.headers['x-frame-options'], 'DENY');
  });

  test('/docs gets its own policy, decided by the path prefix only', async (t) => {
    const app = await buildTestApp(t);
    const docs = await app.inject({ method: 'GET', url: '/docs?x=1' });
    assert.equal(docs.headers['content-security-policy'], DOCS_CONTENT_SECURITY_POLICY);
    const lookalike = await app.inject({ method: 'GET', url: '/docsx' });
    assert.equal(lookalike.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  });
});

describe('limits', () => {
  test('writes past the limit from one address get 429 RATE_LIMITED with Retry-After', async (t) => {
    const app = await buildTestApp(t, { writeRateLimit: { max: 3, timeWindowMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      const ok = await app.inject({ method: 'POST', url: '/api/x', payload: {} });
      assert.equal(ok.statusCode, 200);
    }
    const limited = await app.inject({ method: 'PUT', url: '/api/y', payload: {} });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.equal(limited.json().statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // another address has its own budget, and reads are never limited
    const other = await app.inject({ method: 'POST', url: '/api/x', remoteAddress: '127.0.0.2', payload: {} });
    assert.equal(other.statusCode, 200);
    for (let i = 0; i < 10; i++) {
      assert.equal((await app.inject({ method: 'GET', url: '/api/x' })).statusCode, 200);
    }
  });

  test('failed token guesses count against the write limit', async (t) => {
    const app = await buildTestApp(t, { authToken: TOKEN, writeRateLimit: { max: 2, timeWindowMs: 60_000 } });
    for (let i = 0; i < 2; i++) {
      const guess = await app.inject({ method: 'POST', url: '/api/x', headers: bearer(`guess-${i}`), payload: {} });
      assert.equal(guess.statusCode, 401);
    }
    const limited = await app.inject({ method: 'POST', url: '/api/x', headers: bearer(TOKEN), payload: {} });
    assert.equal(limited.statusCode, 429);
  });

  test('the default limit is 60 writes per minute', async (t) => {
    const app = await buildTestApp(t);
    for (let i = 0; i < 60; i++) {
      assert.equal((await app.inject({ method: 'POST', url: '/api/x', payload: {} })).statusCode, 200);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/x', payload: {} })).statusCode, 429);
  });

  test('a body over the limit gets 413', async (t) => {
    const app = await buildTestApp(t);
    const big = JSON.stringify({ pad: 'x'.repeat(SECURITY_BODY_LIMIT_BYTES) });
    const response = await app.inject({ method: 'POST', url: '/api/x', headers: { 'content-type': 'application/json' }, payload: big });
    assert.equal(response.statusCode, 413);
  });

  test('write routes get the body limit from registerSecurity even without the constructor option', async (t) => {
    const app = Fastify();
    await registerSecurity(app, { host: '127.0.0.1', authToken: null, corsOrigins: [], bodyLimitBytes: 100 });
    app.post('/api/x', async () => ({ ok: true }));
    t.after(() => app.close());
    const small = await app.inject({ method: 'POST', url: '/api/x', payload: { a: 'x'.repeat(50) } });
    assert.equal(small.statusCode, 200);
    const big = await app.inject({ method: 'POST', url: '/api/x', payload: { a: 'x'.repeat(200) } });
    assert.equal(big.statusCode, 413);
  });

  test('an unauthenticated oversized write is refused before its body is read', async (t) => {
    const app = await buildTestApp(t, { authToken: TOKEN });
    const big = JSON.stringify({ pad: 'x'.repeat(SECURITY_BODY_LIMIT_BYTES) });
    const response = await app.inject({ method: 'POST', url: '/api/x', headers: { 'content-type': 'application/json' }, payload: big });
    assert.equal(response.statusCode, 401);
  });
});
