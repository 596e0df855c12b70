/**
 * The dashboard's built files, served by src/api/dashboard-files.ts (issue #13: instead of @fastify/static),
 * from a real Fastify server on a random port: types, lengths, bytes, caching, validators, HEAD, and nothing
 * outside the listed files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '../../src/api/app.js';
import { registerDashboardFiles, type DashboardFiles } from '../../src/api/dashboard-files.js';

describe('the dashboard files', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-dist-'));
  const outside = path.join(path.dirname(root), `${path.basename(root)}-secret.txt`);
  const files: Record<string, string | Buffer> = {
    'index.html': '<!doctype html><title>Net-Pulse</title>',
    'assets/index-Ab12Cd.js': 'console.log("µ");\n'.repeat(500),
    'assets/index-Ef34Gh.css': 'body{margin:0}',
    'assets/fonts/inter.woff2': Buffer.from([0x77, 0x4f, 0x46, 0x32, 0, 1, 2, 3]),
    'favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'notes.unknownext': 'x',
    '.env': 'SECRET=1',
  };
  let url = '';
  let app: FastifyInstance;
  let served: DashboardFiles | null = null;

  before(async () => {
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), content);
    }
    fs.writeFileSync(outside, 'not for the web');
    app = Fastify();
    served = registerDashboardFiles(app as unknown as App, root);
    app.get('/', (request, reply) => served!.send(request, reply, 'index.html'));
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { force: true });
  });

  it('serves every file at its path with its type, length and bytes', async () => {
    const expected: [string, string, RegExp][] = [
      ['/', 'index.html', /^text\/html; charset=utf-8$/],
      ['/index.html', 'index.html', /^text\/html; charset=utf-8$/],
      ['/assets/index-Ab12Cd.js', 'assets/index-Ab12Cd.js', /^text\/javascript; charset=utf-8$/],
      ['/assets/index-Ef34Gh.css', 'assets/index-Ef34Gh.css', /^text\/css; charset=utf-8$/],
      ['/assets/fonts/inter.woff2', 'assets/fonts/inter.woff2', /^font\/woff2$/],
      ['/favicon.svg', 'favicon.svg', /^image\/svg\+xml$/],
      ['/notes.unknownext', 'notes.unknownext', /^application\/octet-stream$/],
    ];
    for (const [urlPath, rel, type] of expected) {
      const res = await fetch(url + urlPath);
      assert.equal(res.status, 200, urlPath);
      assert.match(res.headers.get('content-type') ?? '', type, urlPath);
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.equals(Buffer.from(files[rel]!)), `${urlPath}: the file's bytes`);
      assert.equal(Number(res.headers.get('content-length')), body.length, urlPath);
    }
  });

  it('caches the hashed assets for a year and revalidates the page', async () => {
    assert.equal((await fetch(`${url}/assets/index-Ab12Cd.js`)).headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${url}/`)).headers.get('cache-control'), 'public, max-age=0');
  });

  it('answers 304 with no body to a matching ETag or a date not before the file, 200 otherwise', async () => {
    const first = await fetch(`${url}/`);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const byTag = await fetch(`${url}/`, { headers: { 'if-none-match': `"other", ${etag}` } });
    assert.equal(byTag.status, 304);
    assert.equal(await byTag.text(), '');
    assert.equal((await fetch(`${url}/`, { headers: { 'if-none-match': '"other"' } })).status, 200);
    assert.equal((await fetch(`${url}/`, { headers: { 'if-modified-since': lastModified } })).status, 304);
    assert.equal((await fetch(`${url}/`, { headers: { 'if-modified-since': new Date(Date.parse(lastModified) - 60_000).toUTCString() } })).status, 200);
    // A changed file has a new tag: the old one no longer matches.
    fs.writeFileSync(path.join(root, 'index.html'), `${files['index.html']}<p>rebuilt</p>`);
    const changed = await fetch(`${url}/`, { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.match(await changed.text(), /rebuilt/);
    fs.writeFileSync(path.join(root, 'index.html'), files['index.html']!);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await fetch(`${url}/assets/index-Ab12Cd.js`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(files['assets/index-Ab12Cd.js'] as string));
    assert.equal(await res.text(), '');
  });

  it('serves nothing else: no dot files, no folders, nothing outside the root, nothing added after start', async () => {
    fs.writeFileSync(path.join(root, 'assets', 'added-later.js'), 'ADDED LATE');
    for (const p of ['/.env', '/assets/', '/assets', '/assets/fonts/', `/assets/../../${path.basename(outside)}`, `/..%2f${path.basename(outside)}`, '/assets/added-later.js', '/index.html/', '/INDEX.HTML']) {
      const res = await fetch(url + p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(await res.text(), /SECRET|not for the web|ADDED LATE/, p);
    }
  });

  it('a file deleted under a running server is a 404, not an error', async () => {
    fs.rmSync(path.join(root, 'favicon.svg'));
    assert.equal((await fetch(`${url}/favicon.svg`)).status, 404);
  });

  it('without an index.html there is no dashboard: nothing is registered', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-nodist-'));
    try {
      const bare = Fastify();
      assert.equal(registerDashboardFiles(bare as unknown as App, empty), null);
      assert.equal(registerDashboardFiles(bare as unknown as App, path.join(empty, 'missing')), null);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
