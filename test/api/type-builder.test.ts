/**
 * src/api/type.ts against TypeBox itself: every builder the routes use gives the same JSON Schema (what
 * Fastify's Ajv and the OpenAPI document see), including which properties are required; and a started
 * server loads no module of TypeBox (issue #13: it weighed +29 MiB RSS for builders that only make objects).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Type as TB } from 'typebox';
import { Type } from '../../src/api/type.js';
import { REPO_ROOT } from '../helpers/netns.js';

const json = (s: unknown) => JSON.stringify(s);

test('each builder returns what TypeBox returns', () => {
  const cases: [string, unknown, unknown][] = [
    ['String', Type.String(), TB.String()],
    ['String with options', Type.String({ minLength: 1, maxLength: 15, pattern: '^[a-z]+$', description: 'd', default: 'x' }), TB.String({ minLength: 1, maxLength: 15, pattern: '^[a-z]+$', description: 'd', default: 'x' })],
    ['String enum', Type.String({ enum: ['json', 'csv'], default: 'json' }), TB.String({ enum: ['json', 'csv'], default: 'json' })],
    ['Integer', Type.Integer({ minimum: 1, maximum: 8760 }), TB.Integer({ minimum: 1, maximum: 8760 })],
    ['Number', Type.Number({ exclusiveMinimum: 0 }), TB.Number({ exclusiveMinimum: 0 })],
    ['Boolean', Type.Boolean({ default: false }), TB.Boolean({ default: false })],
    ['Null', Type.Null(), TB.Null()],
    ['Unknown', Type.Unknown(), TB.Unknown()],
    ['Literal string', Type.Literal('router'), TB.Literal('router')],
    ['Literal number', Type.Literal(3), TB.Literal(3)],
    ['Literal boolean', Type.Literal(true), TB.Literal(true)],
    ['Array', Type.Array(Type.String(), { maxItems: 64, uniqueItems: true }), TB.Array(TB.String(), { maxItems: 64, uniqueItems: true })],
    ['Union', Type.Union([Type.String(), Type.Null()], { description: 'u' }), TB.Union([TB.String(), TB.Null()], { description: 'u' })],
    ['Unsafe', Type.Unsafe<number>({ type: 'integer', nullable: true }), TB.Unsafe<number>({ type: 'integer', nullable: true })],
    ['Record', Type.Record(Type.String(), Type.Unknown(), { description: 'r' }), TB.Record(TB.String(), TB.Unknown(), { description: 'r' })],
    ['Intersect', Type.Intersect([Type.Object({ id: Type.String() }), Type.Object({ n: Type.Integer() })]), TB.Intersect([TB.Object({ id: TB.String() }), TB.Object({ n: TB.Integer() })])],
  ];
  for (const [name, ours, theirs] of cases) assert.equal(json(ours), json(theirs), name);
});

test('Object: required lists exactly the properties not marked Optional, options after them', () => {
  const ours = Type.Object(
    { a: Type.String(), b: Type.Optional(Type.Integer()), c: Type.Optional(Type.Union([Type.String(), Type.Null()])), d: Type.Array(Type.Object({ e: Type.Boolean() })) },
    { additionalProperties: false, description: 'o' },
  );
  const theirs = TB.Object(
    { a: TB.String(), b: TB.Optional(TB.Integer()), c: TB.Optional(TB.Union([TB.String(), TB.Null()])), d: TB.Array(TB.Object({ e: TB.Boolean() })) },
    { additionalProperties: false, description: 'o' },
  );
  assert.equal(json(ours), json(theirs));
  assert.deepEqual((ours as { required?: string[] }).required, ['a', 'd']);
  // No required at all when every property is optional.
  assert.equal(json(Type.Object({ x: Type.Optional(Type.String()) })), json(TB.Object({ x: TB.Optional(TB.String()) })));
  assert.equal('required' in Type.Object({ x: Type.Optional(Type.String()) }), false);
  // Optional does not change the schema it marks, nor shows in the JSON.
  const base = Type.Integer({ minimum: 0 });
  assert.equal(json(Type.Optional(base)), json(base));
  assert.equal('~optional' in base, false);
});

test('Omit keeps the other properties and their required flags, as TypeBox does', () => {
  const ours = Type.Object({ interface: Type.String(), rx: Type.Integer(), note: Type.Optional(Type.String()) }, { description: 'row', additionalProperties: false });
  const theirs = TB.Object({ interface: TB.String(), rx: TB.Integer(), note: TB.Optional(TB.String()) }, { description: 'row', additionalProperties: false });
  assert.equal(json(Type.Omit(ours, ['interface'])), json(TB.Omit(theirs, ['interface'])));
});

test('Record refuses a key it does not build', () => {
  assert.throws(() => Type.Record(Type.Integer() as never, Type.String()), /only a plain string key/);
});

test('a started server, asked for its OpenAPI document, has loaded no module of TypeBox', { timeout: 90_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np13-typebox-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = `
const { startServer } = await import('./src/server.ts');
const srv = await startServer({ env: process.env, discoverySampleMs: 10 });
const doc = await (await fetch(srv.url + '/docs/json')).json();
await srv.close();
await new Promise((r) => setTimeout(r, 200)); // the recorder's messages arrive
const loaded = globalThis.__netpulseLoaded;
process.stdout.write(JSON.stringify({ paths: Object.keys(doc.paths).length, total: loaded.length, typebox: loaded.filter((u) => /\\/node_modules\\/(typebox|@fastify\\/type-provider-typebox)\\//.test(u)) }));
`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', './test/helpers/record-loads.mjs', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    timeout: 60_000,
    env: { ...process.env, NETPULSE_DB_PATH: path.join(dir, 'np.db'), NETPULSE_PORT: '0', NETPULSE_LOG_LEVEL: 'silent', NETPULSE_POLL_INTERVAL: '3600' },
  });
  const run = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { paths: number; total: number; typebox: string[] };
  assert.ok(run.total > 50, `the recorder saw the server's modules (${run.total})`);
  assert.ok(run.paths > 20, 'the document lists the routes');
  assert.deepEqual(run.typebox, []);
});
