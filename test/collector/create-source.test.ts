import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCounterSource } from '../../src/collector/create-source.js';

const laptop = {
  procRoot: fileURLToPath(new URL('../fixtures/laptop/proc', import.meta.url)),
  sysRoot: fileURLToPath(new URL('../fixtures/laptop/sys', import.meta.url)),
};

test('createCounterSource reads the given /proc and /sys roots on Linux', async () => {
  const reading = await createCounterSource(laptop, 'linux').readCounters();
  assert.equal(reading.bootId, '3f6c1e0a-92b4-4d1f-8a7e-5c2b9d04e6a1');
  assert.ok(reading.interfaces.some((entry) => entry.name === 'wlan0'));
});

test('createCounterSource returns a source without touching the roots on other platforms', () => {
  const source = createCounterSource({ procRoot: '/nonexistent', sysRoot: '/nonexistent' }, 'darwin');
  assert.equal(typeof source.readCounters, 'function');
  assert.equal(typeof source.listInterfaces, 'function');
  assert.equal(typeof source.readBootTimeMs, 'function');
});
