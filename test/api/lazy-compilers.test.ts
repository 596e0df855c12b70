/**
 * Issue #13: a route's request validator and response serializer are compiled on its first request, not at
 * start, and a deferred one validates, rejects and serializes exactly as one compiled at start would.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { createLazyCompilers } from '../../src/api/lazy-compilers.js';
import { ApiInterfaceSchema } from '../../src/api/schemas.js';
import { startTestServer } from '../helpers/server.js';

/** Whether a package's entry module is loaded (Fastify itself loads fast-json-stringify's small runtime, not its compiler). */
const loaded = (entry: string) => Object.keys(createRequire(import.meta.url).cache).some((k) => k.endsWith(`/node_modules/${entry}`));

test('a started server has compiled none of its schemas; each request compiles only what its route needs', async (t) => {
  const compilers = createLazyCompilers();
  const srv = await startTestServer(t, { compilers });
  const atStart = compilers.counts();
  assert.ok(atStart.deferred >= 50, `every route's schemas are known at start (${atStart.deferred})`);
  assert.equal(atStart.compiled, 0, 'nothing compiled before the first request');
  assert.equal(loaded('ajv/dist/ajv.js'), false, 'Ajv is not even loaded');
  assert.equal(loaded('fast-json-stringify/index.js'), false, 'nor fast-json-stringify');

  const list = await srv.get('/api/interfaces');
  assert.equal(list.status, 200);
  assert.ok(Array.isArray(list.body) && list.body.some((i: { name: string }) => i.name === 'eth0'));
  assert.equal(compilers.counts().compiled, 1, '/api/interfaces compiled its one response serializer');
  assert.equal(loaded('fast-json-stringify/index.js'), true);
  // The serializer is the route's own: every answer has exactly the properties its schema lists.
  for (const item of list.body) assert.deepEqual(Object.keys(item).sort(), Object.keys(ApiInterfaceSchema.properties).sort());

  const again = await srv.get('/api/interfaces');
  assert.equal(again.text, list.text, 'the second answer (compiled serializer, called directly) is the same bytes');
  assert.equal(compilers.counts().compiled, 1);
});

test('a deferred validator coerces, rejects with the failing field named, and reports each failure afresh', async (t) => {
  const compilers = createLazyCompilers();
  const srv = await startTestServer(t, { compilers });
  const notNumber = await srv.get('/api/traffic?time_window_hours=abc&group_minutes=60');
  assert.equal(notNumber.status, 400);
  assert.equal(notNumber.body.code, 'VALIDATION_ERROR');
  assert.match(notNumber.body.message, /time_window_hours/);
  // A different failure of the same, now compiled, validator: its errors, not the previous request's.
  const badGroup = await srv.get('/api/traffic?time_window_hours=1&group_minutes=1.5');
  assert.equal(badGroup.status, 400);
  assert.match(badGroup.body.message, /group_minutes/);
  assert.doesNotMatch(badGroup.body.message, /time_window_hours/);
  // Valid input between failures: coerced from the query string, answered.
  const ok = await srv.get('/api/traffic?time_window_hours=1&group_minutes=60');
  assert.equal(ok.status, 200);
  assert.ok(Array.isArray(ok.body.data));
  const afterValid = await srv.get('/api/traffic?time_window_hours=0&group_minutes=60');
  assert.equal(afterValid.status, 400, 'a success leaves no stale state behind');
  assert.match(afterValid.body.message, /time_window_hours/);
});

test('every deferred schema of the app compiles (a broken one would otherwise fail only on its first request)', async (t) => {
  const compilers = createLazyCompilers();
  await startTestServer(t, { compilers });
  compilers.compileAll();
  const { deferred, compiled } = compilers.counts();
  assert.equal(compiled, deferred);
});
