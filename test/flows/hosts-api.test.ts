/**
 * Issue #9: the per-host API while the feature is off (the default) answers with stable codes and changes
 * nothing; and the host rollups (real SQLite) add up, group by device and keep a user's name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostsRepo } from '../../src/flows/hosts-repo.js';
import { openDatabase } from '../../src/storage/db.js';
import { startTestServer } from '../helpers/server.js';

test('with NETPULSE_FLOWS off: /api/flows/status says so, host routes answer 409 FLOWS_OFF, bad input 400', async (t) => {
  const srv = await startTestServer(t);
  const status = await srv.get('/api/flows/status');
  assert.equal(status.status, 200);
  assert.equal(status.body.enabled, false);
  assert.equal(status.body.parts.hosts.on, false);
  assert.match(status.body.parts.hosts.reason, /NETPULSE_FLOWS/);
  const hosts = await srv.get('/api/hosts?time_window_hours=24');
  assert.equal(hosts.status, 409);
  assert.equal(hosts.body.code, 'FLOWS_OFF');
  assert.equal((await srv.get('/api/hosts/ip-10.0.0.1/traffic?time_window_hours=1&group_minutes=5')).body.code, 'FLOWS_OFF');
  assert.equal((await srv.put('/api/hosts/ip-10.0.0.1', { name: 'nas' })).body.code, 'FLOWS_OFF');
  const badId = await srv.get('/api/hosts/..%2Fetc/traffic?time_window_hours=1&group_minutes=5');
  assert.equal(badId.status, 400);
  assert.equal(badId.body.code, 'VALIDATION_ERROR');
  const badBody = await srv.put('/api/hosts/ip-10.0.0.1', { name: 5 });
  assert.equal(badBody.status, 400);
  assert.equal(badBody.body.code, 'VALIDATION_ERROR');
  assert.equal((await srv.get('/api/hosts?limit=0')).status, 400);
});

test('hosts repo: samples spread over minute and hour buckets add up; an address joins its device when the MAC is known; names', () => {
  const db = openDatabase(':memory:');
  try {
    const repo = createHostsRepo(db, { timezone: 'UTC' });
    const t0 = 1_764_633_600; // 2025-12-02T00:00:00Z, a whole hour
    repo.touchHost('ip-10.0.0.5', 'router', null, t0);
    repo.setAddress('10.0.0.5', 'ip-10.0.0.5', t0);
    // 90 s spanning a minute boundary, then a sample in the next hour.
    repo.write([{ hostId: 'ip-10.0.0.5', startSec: t0 + 30, endSec: t0 + 120, rxBytes: 9000n, txBytes: 900n, rxPackets: 9n, txPackets: 3n }]);
    repo.write([{ hostId: 'ip-10.0.0.5', startSec: t0 + 3600, endSec: t0 + 3630, rxBytes: 1n, txBytes: 2n, rxPackets: 1n, txPackets: 1n }]);
    const minutes = repo.series('traffic_1m', { interfaces: ['ip-10.0.0.5'] }, t0, t0 + 7200);
    assert.deepEqual(minutes.map((r) => r[1]), [3000, 6000, 1]);
    const [h] = repo.totals('router', t0, t0 + 3700, 10);
    assert.equal(h!.rxBytes, 9001n);
    assert.equal(h!.txBytes, 902n);

    // The MAC shows up: the address moves to the device and takes its history along.
    repo.touchHost('mac-02-00-00-09-00-10', 'router', '02:00:00:09:00:10', t0 + 3700);
    assert.equal(repo.setAddress('10.0.0.5', 'mac-02-00-00-09-00-10', t0 + 3700), 'ip-10.0.0.5');
    repo.setUserName('ip-10.0.0.5', 'laptop');
    repo.mergeHost('ip-10.0.0.5', 'mac-02-00-00-09-00-10');
    repo.touchHost('mac-02-00-00-09-00-10', 'router', null, t0 + 3700);
    repo.setAddress('fd00::10', 'mac-02-00-00-09-00-10', t0 + 3700);
    const all = repo.totals('router', t0, t0 + 3700, 10);
    assert.equal(all.length, 1);
    assert.equal(all[0]!.id, 'mac-02-00-00-09-00-10');
    assert.equal(all[0]!.mac, '02:00:00:09:00:10', 'a later touch without a MAC keeps it');
    assert.deepEqual(all[0]!.addresses, ['10.0.0.5', 'fd00::10']);
    assert.equal(all[0]!.rxBytes, 9001n);
    assert.equal(all[0]!.userName, 'laptop', "the user's name follows the merge");
    assert.equal(repo.get('ip-10.0.0.5'), null);
    assert.deepEqual(repo.totals('host', t0, t0 + 3700, 10), [], 'the other mode has its own hosts');
    assert.equal(repo.setUserName('ip-nope', 'x'), false);
  } finally {
    db.close();
  }
});
