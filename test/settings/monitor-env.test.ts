import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { startTestServer, DEFAULT_TREE } from '../helpers/server.js';

const tree = {
  ...DEFAULT_TREE,
  interfaces: {
    ...DEFAULT_TREE.interfaces,
    docker0: { virtual: true, bridge: true, speed: null, counters: { rxBytes: 1000n } },
    veth9a: { virtual: true, counters: { rxBytes: 1000n } },
  },
};

test('NETPULSE_INTERFACES is checked like NETPULSE_USAGE_INTERFACES and names itself when wrong', () => {
  assert.deepEqual(loadConfig({ NETPULSE_INTERFACES: 'eth0, wlan*' }).monitorInterfaces, ['eth0', 'wlan*']);
  assert.equal(loadConfig({}).monitorInterfaces, null);
  assert.throws(() => loadConfig({ NETPULSE_INTERFACES: 'eth0,bad name' }), /NETPULSE_INTERFACES: "bad name" is not an interface name/);
});

test('NETPULSE_INTERFACES wins over the stored set, locks the API, and takes in an interface that appears later', async (t) => {
  const srv = await startTestServer(t, { tree, env: { NETPULSE_INTERFACES: '-docker*,-veth*' } });
  // Only excludes: every interface but loopback and the excluded ones.
  assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'wlan0']);
  const view = (await srv.get('/api/config/interfaces')).body;
  assert.equal(view.source, 'env');
  assert.equal(view.filter, '-docker*,-veth*');

  const refused = await srv.put('/api/config/interfaces', { interfaces: ['eth0'] });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'INTERFACES_SET_BY_ENV');
  const refusedPost = await srv.post('/api/config/monitored_interfaces', ['eth0']);
  assert.equal(refusedPost.status, 409);
  assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'wlan0'], 'a refused write changes nothing');

  // A VPN comes up and carries traffic: it matches, so it is counted from its first poll and joins the set.
  srv.tree.addInterface('tun0', { virtual: true, tun: true, type: 65534, address: '', speed: null, counters: { rxBytes: 100n } });
  await srv.collect(); // tun0 appeared since the last poll: counted from zero, as every new interface is
  srv.tree.setCounters('tun0', { rxBytes: 5100n, rxPackets: 5n });
  srv.tree.setCounters('veth9a', { rxBytes: 9000n });
  await srv.collect();
  assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'tun0', 'wlan0']);
  assert.equal((await srv.get('/api/interfaces/tun0')).body.monitored, true);
  const summary = (await srv.get('/api/traffic/summary?hours=1')).body;
  const tun = summary.interfaces.find((i: { interface: string }) => i.interface === 'tun0');
  assert.equal(tun?.rx_bytes, 5100n);
  assert.equal(summary.interfaces.find((i: { interface: string }) => i.interface === 'veth9a'), undefined, 'an excluded veth is not counted');
});

test('without NETPULSE_INTERFACES the stored set is in force and the API says so', async (t) => {
  const srv = await startTestServer(t, { tree });
  assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'wlan0'], 'a first start picks the physical kinds, not docker0 or the veth');
  const view = (await srv.get('/api/config/interfaces')).body;
  assert.equal(view.source, 'config');
  assert.equal(view.filter, null);
  assert.equal((await srv.put('/api/config/interfaces', { interfaces: ['eth0', 'veth9a'] })).status, 200);
  assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'veth9a']);
});
