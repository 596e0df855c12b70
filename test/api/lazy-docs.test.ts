/**
 * Issue #13: the OpenAPI UI (@fastify/swagger-ui) is loaded on the first /docs request, not at start; the
 * OpenAPI document is there from the start, and the UI's unknown paths answer with our 404 body.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

const loadedUi = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@fastify/swagger-ui'));

test('the OpenAPI UI is loaded by the first /docs request, the document is served before it', async (t) => {
  assert.equal(loadedUi(), false, 'nothing in this process loaded the UI before the server started');
  const srv = await startTestServer(t);
  assert.equal(loadedUi(), false, 'a started server has not loaded the UI');
  const spec = await srv.get('/docs/json');
  assert.equal(spec.status, 200);
  assert.match(spec.body.openapi, /^3\./);
  assert.ok(spec.body.paths['/api/traffic'], 'the document lists the routes');
  assert.equal(loadedUi(), false, 'the document needs no UI');
  const ui = await srv.get('/docs');
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(ui.text, /swagger-ui/i);
  assert.equal(loadedUi(), true);
  const css = await srv.get('/docs/static/swagger-ui.css');
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  const missing = await srv.get('/docs/static/no-such-file.js');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'NOT_FOUND');
});
