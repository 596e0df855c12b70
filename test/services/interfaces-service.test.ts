/**
 * Issue #13: /api/interfaces answers from cached sysfs metadata until a counter read shows other interfaces,
 * invalidate() is called (link events), or the cache is META_MAX_AGE_MS old. The source is the real Linux
 * source on a fixture tree; only its listInterfaces calls are counted.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { META_MAX_AGE_MS, createInterfacesService } from '../../src/services/interfaces-service.js';
import { createSettingsService } from '../../src/services/settings-service.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { makeStore } from '../helpers/store.js';

function setup(t: TestContext) {
  const clock = { now: 1_800_000_000_000 };
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 1 } }, eth0: { counters: { rxBytes: 100 } }, eth1: { counters: { rxBytes: 200 } } } });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const source = createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock.now, networkInterfaces: () => ({}) });
  const lists = t.mock.method(source, 'listInterfaces');
  const settings = createSettingsService(store.config, null);
  const service = createInterfacesService({ source, settings, configRepo: store.config, now: () => clock.now });
  return { clock, tree, service, lists };
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
