/**
 * /docs/json, the OpenAPI document generated clients are made from: valid as a whole (checked by an
 * OpenAPI validator), and every parameter with a default is optional.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { default?: unknown };
}

type Operations = Record<string, Record<string, { parameters?: Parameter[] }>>;

function parametersOf(doc: { paths: Operations }): { where: string; p: Parameter }[] {
  const out: { where: string; p: Parameter }[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const p of op.parameters ?? []) out.push({ where: `${method.toUpperCase()} ${path} ${p.in} ${p.name}`, p });
    }
  }
  return out;
}

describe('the OpenAPI document at /docs/json', () => {
  let srv: TestServer;
  let doc: { openapi: string; paths: Operations };
  before(async () => {
    srv = await startTestServer(null);
    const answer = await fetch(`${srv.url}/docs/json`);
    assert.equal(answer.status, 200);
    doc = (await answer.json()) as typeof doc;
  });
  after(() => srv.close());

  test('passes an OpenAPI validator as a whole', async () => {
    assert.match(doc.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  test('the validator refuses a document with a broken parameter (the check can fail)', async () => {
    const broken = structuredClone(doc);
    const op = broken.paths['/api/traffic/history']!.get!;
    op.parameters = [...(op.parameters ?? []), { name: 'limit', in: 'nowhere' } as Parameter];
    await assert.rejects(SwaggerParser.validate(broken as never));
  });

  test('no parameter with a default is required', () => {
    const params = parametersOf(doc);
    const defaulted = params.filter(({ p }) => p.schema?.default !== undefined);
    assert.ok(defaulted.length >= 5, `only ${defaulted.length} parameters with defaults found`);
    assert.deepEqual(defaulted.filter(({ p }) => p.required === true).map(({ where }) => where), []);
  });

  test('limit and offset of /api/traffic/history are optional, with their defaults, and the route answers without them', async () => {
    const params = doc.paths['/api/traffic/history']!.get!.parameters ?? [];
    for (const name of ['limit', 'offset']) {
      const p = params.find((x) => x.name === name);
      assert.ok(p, `${name} is documented`);
      assert.notEqual(p.required, true, `${name} is optional`);
    }
    assert.equal(params.find((x) => x.name === 'limit')!.schema!.default, 100);
    assert.equal(params.find((x) => x.name === 'offset')!.schema!.default, 0);
    const answer = await srv.get('/api/traffic/history');
    assert.equal(answer.status, 200, answer.text);
    const bad = await srv.get('/api/traffic/history?limit=0');
    assert.equal(bad.status, 400, 'the range check still applies');
  });

  test('path parameters stay required', () => {
    const pathParams = parametersOf(doc).filter(({ p }) => p.in === 'path');
    assert.ok(pathParams.length > 0);
    assert.deepEqual(pathParams.filter(({ p }) => p.required !== true).map(({ where }) => where), []);
  });
});
