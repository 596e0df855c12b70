import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSysinfoSource } from '../../src/collector/sysinfo-source.js';

// A smoke test: systeminformation shells out, so this is the slowest test of the collector.
test('createSysinfoSource reads the loopback interface with bigint counters', { timeout: 30_000 }, async () => {
  const source = createSysinfoSource({ now: () => 1767268800000 });
  const reading = await source.readCounters();
  assert.equal(reading.timeMs, 1767268800000);
  assert.equal(reading.bootId, null);
  const loopback = reading.interfaces.find((entry) => entry.name === 'lo' || entry.name === 'lo0' || /loopback/i.test(entry.name));
  assert.ok(loopback, `loopback among ${reading.interfaces.map((entry) => entry.name).join(', ')}`);
  assert.equal(loopback.ifindex, null);
  assert.equal(typeof loopback.counters.rxBytes, 'bigint');
  const metas = await source.listInterfaces();
  assert.equal(metas.find((meta) => meta.name === loopback.name)?.kind, 'loopback');
  const bootTimeMs = await source.readBootTimeMs();
  assert.ok(bootTimeMs !== null && bootTimeMs < 1767268800000);
});
