/**
 * Issue #13: the OpenAPI document (@fastify/swagger) is made by the first /docs/json request and the OpenAPI UI
 * (@fastify/swagger-ui) loaded by the first /docs request, not at start; the UI's unknown paths answer with our
 * 404 body.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

const loaded = (part: string) => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(part));
const loadedUi = () => loaded('/@fastify/swagger-ui/');
const loadedGenerator = () => loaded('/@fastify/swagger/') || loaded('/node_modules/yaml/');

test('the OpenAPI document is made by the first /docs/json request, the UI loaded by the first /docs request', async (t) => {
  assert.equal(loadedUi() || loadedGenerator(), false, 'nothing in this process loaded them before the server started');
  const srv = await startTestServer(t);
  assert.equal(loadedUi(), false, 'a started server has not loaded the UI');
  assert.equal(loadedGenerator(), false, 'nor @fastify/swagger and yaml');
  const spec = await srv.get('/docs/json');
  assert.equal(spec.status, 200);
  assert.match(spec.body.openapi, /^3\./);
  assert.ok(spec.body.paths['/api/traffic'], 'the document lists the routes');
  assert.ok(spec.body.paths['/api/traffic'].get.parameters.some((p: { name: string }) => p.name === 'group_minutes'), 'with their schemas');
  assert.equal(spec.body.paths['/docs/json'], undefined, 'hidden routes stay hidden');
  assert.equal(loadedGenerator(), true);
  assert.equal(loadedUi(), false, 'the document needs no UI');
  assert.equal((await srv.get('/docs/json')).text, spec.text, 'made once, the same bytes after');
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
