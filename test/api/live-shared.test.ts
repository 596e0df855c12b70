/**
 * Issue #13, for real: a server polling every second with /api/live open reads the counters once a second,
 * not twice: the live view publishes the collector's readings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CounterSource } from '../../src/collector/counter-source.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { startServer } from '../../src/server.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';

test('at 1 s polling the live stream takes the collector’s readings: one counter read a second, rates from the polls', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 10 } }, eth0: { counters: { rxBytes: 1000, txBytes: 100 } } }, bootId: 'boot-1' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-live-shared-'));
  t.after(() => {
    tree.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const linux = createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot });
  let reads = 0;
  const source: CounterSource = { ...linux, readCounters: () => (reads++, linux.readCounters()) };
  const server = await startServer({
    env: { NETPULSE_HOST: '127.0.0.1', NETPULSE_PORT: '0', NETPULSE_DB_PATH: path.join(dir, 'n.db'), NETPULSE_PROC_ROOT: tree.procRoot, NETPULSE_SYS_ROOT: tree.sysRoot, NETPULSE_LOG_LEVEL: 'silent', NETPULSE_TZ: 'UTC', NETPULSE_POLL_INTERVAL: '1', NETPULSE_INTERFACES: 'eth0' },
    source,
    discoverySampleMs: 20,
  });
  t.after(() => server.close());
  // eth0 carries 2,000 bytes a second (the fixture moves on every 100 ms, bounded in count).
  let rx = 1000;
  const mover = setInterval(() => tree.setCounters('eth0', { rxBytes: (rx += 200), txBytes: 100 }), 100);
  t.after(() => clearInterval(mover));

  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`${server.url}/api/live`, { signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const marks: { reads: number; polls: number; event: { interval_ms: number; interfaces: { name: string; rx_bytes_per_sec: number }[] } }[] = [];
  let text = '';
  const deadline = Date.now() + 30_000;
  while (marks.length < 6 && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    for (let i = text.indexOf('\n\n'); i >= 0; i = text.indexOf('\n\n')) {
      const chunk = text.slice(0, i);
      text = text.slice(i + 2);
      if (chunk.startsWith('data: ')) marks.push({ reads, polls: server.collector.stats().polls, event: JSON.parse(chunk.slice(6)) });
    }
  }
  assert.equal(marks.length, 6, 'six events within 30 s');
  const first = marks[1]!;
  const last = marks[5]!;
  const polls = last.polls - first.polls;
  assert.ok(polls >= 3, `polls between the 2nd and 6th event: ${polls}`);
  // A poll that runs late can let the view read once on its own; before, it read every second besides each poll.
  assert.ok(last.reads - first.reads <= polls + 1, `${last.reads - first.reads} counter reads for ${polls} polls`);
  for (const m of marks.slice(1)) {
    const eth0 = m.event.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0 !== undefined && eth0.rx_bytes_per_sec > 0, `eth0 has a rate: ${JSON.stringify(m.event)}`);
  }
});
