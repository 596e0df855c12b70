/**
 * The flows API over a real server (fixture /proc, real SQLite) with flow tracking started on a fake
 * conntrack seam (no root): the answers' shapes, exact counts, the category table's validation, and
 * 503 FLOWS_OFF when flows are off.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { CtEntry } from '../../src/flows/conntrack-codec.js';
import type { Conntrack } from '../../src/flows/conntrack.js';
import { startFlowTracking } from '../../src/flows/flow-service.js';
import { startTestServer } from '../helpers/server.js';

function entry(id: number, dst: string, dport: number, origBytes: bigint, replyBytes: bigint): CtEntry {
  const orig = { family: 4 as const, protoNum: 6, src: '192.168.1.20', dst, srcPort: 40000 + id, dstPort: dport };
  return { id, orig, reply: { ...orig, src: dst, dst: orig.src, srcPort: dport, dstPort: orig.srcPort }, origPackets: 3n, origBytes, replyPackets: 4n, replyBytes, mark: 0, zone: 0, startNs: null, stopNs: null };
}

const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as T;

function fakeConntrack() {
  let table: CtEntry[] = [];
  let destroy: (e: CtEntry) => void = () => undefined;
  const ct: Conntrack = {
    dump: async () => table,
    onDestroy: (l) => (destroy = l),
    setMark: async () => true,
    eventsLost: 0,
    close: () => undefined,
  };
  return { ct, set: (t: CtEntry[]) => (table = t), destroy: (e: CtEntry) => destroy(e) };
}

test('flows API: 503 FLOWS_OFF when flow tracking is off', async (t) => {
  const s = await startTestServer(t);
  const a = await s.get('/api/flows');
  assert.equal(a.status, 503);
  assert.equal(a.body.code, 'FLOWS_OFF');
  assert.equal((await s.get('/api/traffic/categories')).body.code, 'FLOWS_OFF');
});

test('flows API: active and recent flows, traffic by category to the byte, and the category table', async (t) => {
  const s = await startTestServer(t);
  const fake = fakeConntrack();
  const ft = await startFlowTracking({ config: s.server.config, db: s.server.db, logger: pino({ level: 'silent' }), now: Date.now, openConntrack: async () => fake.ct, manageKernel: false });
  t.after(() => ft.close());
  s.server.ctx.flowTracking = ft;

  fake.set([entry(1, '203.0.113.5', 80, 100n, 900n)]);
  await ft.dumpNow();
  const active = await s.get('/api/flows?state=active');
  assert.equal(active.status, 200);
  assert.deepEqual(Object.keys(active.body.data[0]).sort(), ['category', 'domain', 'dst_address', 'dst_port', 'ended_at', 'host', 'orig_bytes', 'orig_packets', 'protocol', 'reply_bytes', 'reply_packets', 'src_address', 'src_port', 'started_at'].sort());
  assert.equal(active.body.data[0].category, 'web');
  assert.equal(active.body.data[0].host, '192.168.1.20');

  // The flow grows, then ends (DESTROY); a second flow opens and closes between dumps.
  fake.set([entry(1, '203.0.113.5', 80, 150n, 1900n)]);
  await ft.dumpNow();
  fake.destroy(entry(1, '203.0.113.5', 80, 170n, 2000n));
  fake.destroy(entry(2, '198.51.100.7', 3478, 5000n, 7000n));
  const recent = await s.get('/api/flows?state=recent&host=192.168.1.20&limit=10');
  assert.deepEqual(plain(recent.body.data).map((f: { dst_port: number; orig_bytes: number; category: string }) => [f.dst_port, f.orig_bytes, f.category]), [[3478, 5000, 'other'], [80, 170, 'web']]);
  const cats = plain((await s.get('/api/traffic/categories?time_window_hours=1')).body.data) as { category: string; bytes: number; flows: number }[];
  // The baseline (at start) was empty, so flow 1 is new: all of its bytes count, once, through two dumps and its DESTROY.
  assert.deepEqual(cats.find((c) => c.category === 'web'), { category: 'web', bytes: 170 + 2000, orig_bytes: 170, reply_bytes: 2000, packets: 7, flows: 1 });
  ft.flush();
  const again = (await s.get('/api/traffic/categories?time_window_hours=1')).body.data as { category: string; bytes: number }[];
  assert.equal(Number(again.find((c) => c.category === 'web')?.bytes), 2170, 'the same after the rows are written');

  assert.equal((await s.get('/api/flows?host=not-an-ip')).body.code, 'INVALID_HOST');
  const table = await s.get('/api/config/categories');
  assert.equal(table.body.custom, false);
  assert.ok(table.body.domains.length > 50);
  const bad = await s.put('/api/config/categories', { domains: [{ suffix: 'a b', category: 'video' }], ports: [] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'INVALID_CATEGORY_TABLE');
  assert.equal((await s.get('/api/config/categories')).body.custom, false, 'a refused table changes nothing');
  const put = await s.put('/api/config/categories', { domains: [{ suffix: 'example.net', category: 'video' }], ports: [{ protocol: 'tcp', port: 3478, category: 'voice' }] });
  assert.equal(put.status, 200);
  assert.equal(put.body.custom, true);
  fake.destroy(entry(3, '198.51.100.8', 3478, 1n, 1n));
  assert.equal((await s.get('/api/flows?state=recent&limit=1')).body.data[0].category, 'voice');
});
