/** GET /api/traffic/gaps (issue #8): the intervals counter_gaps marks, over a real server and SQLite file. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

test('GET /api/traffic/gaps lists an implausible counter jump of eth0, per interface, and /api/traffic keeps its shape', async (t) => {
  const srv = await startTestServer(t);
  await srv.collect(); // baseline
  assert.deepEqual((await srv.get('/api/traffic/gaps')).body.data, [], 'no gap before the jump');
  // A reset to huge values (a replaced device, a driver glitch): beyond what 1 Gbit/s carries in any poll.
  srv.advance('eth0', { rxBytes: 1n << 62n, rxPackets: 10n });
  srv.advance('wlan0', { rxBytes: 5000n, rxPackets: 5n });
  await srv.collect();

  const all = await srv.get('/api/traffic/gaps?time_window_hours=1');
  assert.equal(all.status, 200);
  assert.equal(all.body.data.length, 1);
  const gap = all.body.data[0];
  assert.equal(gap.interface, 'eth0');
  assert.equal(gap.reason, 'implausible');
  assert.equal(gap.detail.field, 'rxBytes');
  assert.ok(Date.parse(gap.start) <= Date.parse(gap.end));
  assert.ok(Date.parse(all.body.start) <= Date.parse(gap.start) && Date.parse(gap.end) <= Date.parse(all.body.end));
  assert.equal(all.body.interface, null);
  assert.equal(Number(all.body.time_window_hours), 1);

  assert.equal((await srv.get('/api/traffic/gaps?interface=eth0')).body.data.length, 1);
  assert.deepEqual((await srv.get('/api/traffic/gaps?interface=wlan0')).body.data, [], 'wlan0 was counted');

  // Nothing of eth0's jump was stored; wlan0's traffic was, and /api/traffic is still { data: [...], … } as before.
  const traffic = await srv.get('/api/traffic?time_window_hours=1&group_minutes=60&interface=wlan0');
  assert.equal(traffic.status, 200);
  assert.ok(Array.isArray(traffic.body.data));
  assert.equal(traffic.body.gaps, undefined);
  const eth0 = await srv.get('/api/interfaces/eth0/stats');
  assert.equal(BigInt(eth0.body.all_time.rx_bytes), 0n);
});

test('GET /api/traffic/gaps refuses a bad window or interface name with a 400 and a code', async (t) => {
  const srv = await startTestServer(t);
  for (const q of ['time_window_hours=0', 'time_window_hours=abc', 'time_window_hours=100000', 'interface=a%2Fb', 'interface=0123456789abcdef']) {
    const answer = await srv.get(`/api/traffic/gaps?${q}`);
    assert.equal(answer.status, 400, q);
    assert.equal(typeof answer.body.code, 'string', q);
  }
});
