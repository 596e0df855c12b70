/**
 * Issue #13: /api/interfaces answers from cached sysfs metadata until a counter read shows other interfaces,
 * invalidate() is called (link events), or the cache is META_MAX_AGE_MS old. The source is the real Linux
 * source on a fixture tree; only its listInterfaces calls are counted.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { META_MAX_AGE_MS, META_REFRESH_MS, createInterfacesService } from '../../src/services/interfaces-service.js';
import { createSettingsService } from '../../src/services/settings-service.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { waitFor } from '../helpers/server.js';
import { makeStore } from '../helpers/store.js';

function setup(t: TestContext) {
  const clock = { now: 1_800_000_000_000 };
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, virtual: true, counters: { rxBytes: 1 } }, eth0: { counters: { rxBytes: 100 } }, eth1: { counters: { rxBytes: 200 } } } });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const source = createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock.now, networkInterfaces: () => ({}) });
  const lists = t.mock.method(source, 'listInterfaces');
  const speedReads = t.mock.method(source, 'linkSpeeds');
  const settings = createSettingsService(store.config, null);
  const service = createInterfacesService({ source, settings, configRepo: store.config, now: () => clock.now });
  return { clock, tree, service, lists, speedReads };
}

test('interfaces service answers a second list from cached metadata, with fresh counters', async (t) => {
  const { tree, service, lists } = setup(t);
  const first = await service.list();
  tree.setCounters('eth0', { rxBytes: 150 });
  const second = await service.list();
  assert.equal(lists.mock.callCount(), 1, 'sysfs metadata read once');
  assert.deepEqual(first.map((v) => v.meta.name), second.map((v) => v.meta.name));
  assert.equal(second.find((v) => v.meta.name === 'eth0')?.counters?.rxBytes, 150n, 'the counters are read every time');
});

test('interfaces service reads the metadata again when invalidated, when a counter read shows other interfaces, and when it is old', async (t) => {
  const { clock, tree, service, lists } = setup(t);
  await service.list();
  service.invalidate();
  await service.list();
  assert.equal(lists.mock.callCount(), 2, 'invalidate() (a link event) forces a read');

  tree.removeInterface('eth1');
  const afterRemoval = await service.list();
  assert.equal(lists.mock.callCount(), 3, 'an interface gone from /proc/net/dev forces a read');
  assert.deepEqual(afterRemoval.map((v) => v.meta.name).sort(), ['eth0', 'lo']);

  clock.now += META_MAX_AGE_MS - 1;
  await service.list();
  assert.equal(lists.mock.callCount(), 3, 'still fresh');
  clock.now += 1;
  await service.list();
  assert.equal(lists.mock.callCount(), 4, 'read again once META_MAX_AGE_MS old');
});

test('interfaces service reads only the speed files to refresh the speeds, and the whole metadata for a link it does not know', async (t) => {
  const { clock, tree, service, lists, speedReads } = setup(t);
  const setSpeed = (name: string, mbps: number) => writeFileSync(join(tree.sysRoot, 'class', 'net', name, 'speed'), `${mbps}\n`);
  service.speedMbps('eth0');
  await waitFor('the first metadata read', () => service.speedMbps('eth0') === 1000 || undefined);
  assert.equal(lists.mock.callCount(), 1);
  assert.equal(service.speedMbps('lo'), null, 'a virtual link bounds nothing');

  setSpeed('eth0', 100);
  clock.now += META_REFRESH_MS - 1;
  assert.equal(service.speedMbps('eth0'), 1000, 'not yet due');
  assert.equal(speedReads.mock.callCount(), 0);
  clock.now += 2;
  service.speedMbps('eth0');
  await waitFor('the new speed', () => service.speedMbps('eth0') === 100 || undefined);
  assert.equal(lists.mock.callCount(), 1, 'the speeds alone were read');
  assert.deepEqual(speedReads.mock.calls.map((c) => c.arguments[0]), [['eth0', 'eth1']], 'only the physical links');

  tree.addInterface('eth2', { counters: { rxBytes: 1 }, speed: 2500 });
  assert.equal(service.speedMbps('eth2'), null, 'unknown until read');
  clock.now += META_REFRESH_MS + 1;
  service.speedMbps('eth0');
  await waitFor('the new link read with the whole metadata', () => service.speedMbps('eth2') === 2500 || undefined);
  assert.equal(lists.mock.callCount(), 2);
  assert.equal(speedReads.mock.callCount(), 1);
});
