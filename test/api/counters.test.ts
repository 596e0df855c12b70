/**
 * Counter behaviour end to end: the fixture /proc changes the way a kernel's does (huge values, wraps,
 * resets, interfaces that come and go, restarts and reboots) and the API must answer exact totals.
 * Counts past 2^53 are compared in the raw JSON text or as bigints (parseJsonExact), never as doubles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { awayFromBucketEdge, startTestServer, sumField, type TestServer } from '../helpers/server.js';

const HOUR = 3600;
const TWO_60 = 2n ** 60n;
const TWO_64 = 2n ** 64n;

function treeWith(eth0: Record<string, bigint>) {
  return {
    interfaces: {
      lo: { type: 772, virtual: true, flags: 0x9, operstate: 'unknown', speed: null },
      eth0: { counters: eth0 },
    },
    defaultRouteV4: ['eth0'],
    bootId: 'b0000000-0000-4000-8000-0000000000aa',
  };
}

async function allTime(srv: TestServer, name: string) {
  const { status, body } = await srv.get(`/api/interfaces/${name}/stats`);
  assert.equal(status, 200);
  return body.all_time as Record<'rx_bytes' | 'tx_bytes' | 'rx_packets' | 'tx_packets', bigint>;
}

async function metric(srv: TestServer, line: string): Promise<string | undefined> {
  const { text } = await srv.get('/metrics');
  return text.split('\n').find((l) => l.startsWith(`${line} `))?.slice(line.length + 1);
}

// Each test has its own server and fixture tree: they run side by side.
describe('counters through the server', { concurrency: 3 }, () => {
  // Issue #8: a poll can no longer add 2^53 bytes (9 PB in a second is beyond any link, and is baselined);
  // the raw counters stay past 2^53 and every answer shows them and the sums exactly.
  test('counters that start at 2^60 are shown and summed exactly in every answer', async (t) => {
    const srv = await startTestServer(t, { tree: treeWith({ rxBytes: TWO_60, txBytes: TWO_60 + 7n, rxPackets: 2n ** 40n, txPackets: 2n ** 40n }) });
    await awayFromBucketEdge(HOUR);
    const a = 100_000_001n;
    const b = 100_000_002n;
    srv.advance('eth0', { rxBytes: a, txBytes: 3n, rxPackets: 1n });
    await srv.collect();
    srv.advance('eth0', { rxBytes: b, rxPackets: 1n });
    await srv.collect();
    const total = a + b;
    assert.notEqual(BigInt(Number(TWO_60 + total)), TWO_60 + total, 'the raw counter is not a double');
    const exact = `"rx_bytes":${total}`;

    const stats = await srv.get('/api/interfaces/eth0/stats');
    assert.ok(stats.text.includes(`"all_time":{${exact},"tx_bytes":3,`), stats.text);
    assert.ok(stats.text.includes(`"counters":{"rx_bytes":${TWO_60 + total},"tx_bytes":${TWO_60 + 10n},`), stats.text);

    const traffic = await srv.get('/api/traffic?time_window_hours=2&group_minutes=60&interface=eth0');
    assert.ok(traffic.text.includes(exact), traffic.text);
    assert.equal(sumField(traffic.body.data, 'rx_bytes'), total);

    const summary = await srv.get('/api/traffic/summary?hours=1');
    assert.ok(summary.text.includes(`"total":{${exact},`), summary.text);

    const history = await srv.get('/api/traffic/history?interface=eth0&limit=1000');
    assert.equal(sumField(history.body.data, 'rx_bytes'), total);

    const day = await srv.get('/api/export/traffic?format=json&resolution=day');
    assert.ok(day.text.includes(exact), day.text);
    const csv = await srv.get('/api/export/traffic?format=csv&resolution=hour');
    assert.equal(csv.text.trimEnd().split('\n')[1]?.split(',')[2], String(total), csv.text);
    const rawCsv = await srv.get('/api/export/traffic?format=csv');
    const rawSum = rawCsv.text.trimEnd().split('\n').slice(1).reduce((s, line) => s + BigInt(line.split(',')[3]!), 0n);
    assert.equal(rawSum, total);

    assert.equal(await metric(srv, 'netpulse_receive_bytes_total{interface="eth0"}'), String(total));

    const iface = await srv.get('/api/interfaces/eth0');
    assert.ok(iface.text.includes(`"counters":{"rx_bytes":${TWO_60 + total},`), iface.text);
  });

  test('a 32-bit counter that wraps is counted across the wrap', async (t) => {
    const top = 2n ** 32n;
    const srv = await startTestServer(t, { tree: treeWith({ rxBytes: top - 1000n, rxPackets: 100n, txBytes: top - 10n, txPackets: 50n }) });
    srv.setCounters('eth0', { rxBytes: 500n, rxPackets: 105n, txBytes: 20n, txPackets: 52n });
    const polled = await srv.collect();
    assert.deepEqual(
      polled.body.samples.map((s: any) => [s.interface, s.rx_bytes, s.tx_bytes, s.rx_packets, s.tx_packets]),
      [['eth0', 1500n, 30n, 5n, 2n]],
    );
    assert.deepEqual(await allTime(srv, 'eth0'), { rx_bytes: 1500n, tx_bytes: 30n, rx_packets: 5n, tx_packets: 2n });
  });

  test('a 64-bit counter that wraps past 2^64 - 1 is counted exactly', async (t) => {
    const srv = await startTestServer(t, { tree: treeWith({ rxBytes: TWO_64 - 100n, rxPackets: 2n ** 40n, txBytes: TWO_64 - 1n, txPackets: 2n ** 40n }) });
    srv.setCounters('eth0', { rxBytes: 50n, rxPackets: 2n ** 40n + 1n, txBytes: 0n, txPackets: 2n ** 40n + 1n });
    await srv.collect();
    assert.deepEqual(await allTime(srv, 'eth0'), { rx_bytes: 150n, tx_bytes: 1n, rx_packets: 1n, tx_packets: 1n });
    srv.advance('eth0', { rxBytes: 7n });
    await srv.collect();
    assert.equal((await allTime(srv, 'eth0')).rx_bytes, 157n, 'the wrapped value is the new baseline');
  });

  test('a reset (bytes and packets both lower) counts the new values from zero, with no negative or huge delta', async (t) => {
    const srv = await startTestServer(t, { tree: treeWith({ rxBytes: 10_000_000n, rxPackets: 5000n, txBytes: 2_000_000n, txPackets: 1000n }) });
    srv.advance('eth0', { rxBytes: 100n, rxPackets: 1n });
    await srv.collect();
    srv.setCounters('eth0', { rxBytes: 300n, rxPackets: 3n, txBytes: 40n, txPackets: 1n });
    await srv.collect();
    assert.deepEqual(await allTime(srv, 'eth0'), { rx_bytes: 400n, tx_bytes: 40n, rx_packets: 4n, tx_packets: 1n });
    srv.advance('eth0', { rxBytes: 5n });
    await srv.collect();
    assert.equal((await allTime(srv, 'eth0')).rx_bytes, 405n);
  });

  test('an interface removed and added again is counted from zero, and nothing is counted while it is gone', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('wlan0', { rxBytes: 300n, rxPackets: 3n });
    await srv.collect();

    srv.tree.removeInterface('wlan0');
    const gone = await srv.collect();
    assert.deepEqual(gone.body.samples, []);
    assert.ok(!(await srv.get('/api/interfaces')).body.some((i: any) => i.name === 'wlan0'));
    assert.equal((await srv.get('/api/interfaces/wlan0')).status, 404);
    const stats = await srv.get('/api/interfaces/wlan0/stats');
    assert.equal(stats.status, 200, 'still monitored, with stored traffic');
    assert.equal(stats.body.counters, null);

    srv.tree.addInterface('wlan0', { wireless: true, counters: { rxBytes: 50n, rxPackets: 1n } });
    srv.setCounters('wlan0', { rxBytes: 50n, rxPackets: 1n });
    const back = await srv.collect();
    assert.deepEqual(back.body.samples.map((s: any) => [s.interface, s.rx_bytes, s.rx_packets]), [['wlan0', 50n, 1n]]);
    assert.deepEqual(await allTime(srv, 'wlan0'), { rx_bytes: 350n, tx_bytes: 0n, rx_packets: 4n, tx_packets: 0n });
    assert.equal(await metric(srv, 'netpulse_receive_bytes_total{interface="wlan0"}'), '350');
  });

  test('a restart on the same boot counts the traffic that passed while the server was down exactly once', async (t) => {
    const srv = await startTestServer(t);
    await awayFromBucketEdge(HOUR);
    srv.advance('eth0', { rxBytes: 1000n, txBytes: 10n, rxPackets: 4n });
    await srv.collect();
    await srv.stop();
    srv.advance('eth0', { rxBytes: 2500n, txBytes: 20n, rxPackets: 6n });
    await srv.startAgain();
    await srv.collect();
    await srv.restart();
    await srv.collect();

    assert.deepEqual(await allTime(srv, 'eth0'), { rx_bytes: 3500n, tx_bytes: 30n, rx_packets: 10n, tx_packets: 0n });
    assert.equal(await metric(srv, 'netpulse_receive_bytes_total{interface="eth0"}'), '3500');
    const { body } = await srv.get('/api/traffic?time_window_hours=2&group_minutes=60&interface=eth0');
    assert.equal(sumField(body.data, 'rx_bytes'), 3500n);
    const history = await srv.get('/api/traffic/history?interface=eth0&limit=1000');
    assert.equal(sumField(history.body.data, 'rx_bytes'), 3500n);
  });

  test('a reboot restarts the counters from small values: they are counted once, nothing twice', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('eth0', { rxBytes: 1000n, rxPackets: 10n });
    await srv.collect();
    await srv.stop();
    srv.setBootId('b0000000-0000-4000-8000-000000000002');
    srv.setCounters('eth0', { rxBytes: 777n, rxPackets: 7n });
    srv.setCounters('wlan0', {});
    await srv.startAgain();
    await srv.collect();
    assert.deepEqual(await allTime(srv, 'eth0'), { rx_bytes: 1777n, tx_bytes: 0n, rx_packets: 17n, tx_packets: 0n });
    assert.deepEqual(await allTime(srv, 'wlan0'), { rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n });

    srv.advance('eth0', { rxBytes: 23n });
    await srv.collect();
    assert.equal((await allTime(srv, 'eth0')).rx_bytes, 1800n, 'the post-reboot counters are the new baseline');
    assert.equal(await metric(srv, 'netpulse_receive_bytes_total{interface="eth0"}'), '1800');
  });

  for (const reboot of [false, true]) {
    test(`traffic counted after three hours down${reboot ? ' and a reboot' : ''} is spread over the hours it spans, not drawn as one spike`, async (t) => {
      const srv = await startTestServer(t);
      await srv.stop();
      // Three hours pass: the stored last reading is moved back, as if the server had stopped then.
      const db = new Database(srv.dbPath);
      db.prepare('UPDATE collector_state SET time_ms = time_ms - ?').run(3 * HOUR * 1000);
      db.close();
      const crossed = 3_600_000n;
      if (reboot) {
        srv.setBootId('b0000000-0000-4000-8000-000000000003');
        srv.setCounters('eth0', { rxBytes: crossed });
        srv.setCounters('wlan0', {});
      } else {
        srv.advance('eth0', { rxBytes: crossed });
      }
      await srv.startAgain();

      assert.equal((await allTime(srv, 'eth0')).rx_bytes, crossed);
      const { body } = await srv.get('/api/traffic?time_window_hours=6&group_minutes=60&interface=eth0');
      assert.equal(sumField(body.data, 'rx_bytes'), crossed);
      const filled = body.data.filter((p: any) => p.rx_bytes !== null && p.rx_bytes > 0n);
      assert.ok(filled.length >= 3, `${filled.length} hour buckets hold the traffic`);
      const largest = filled.reduce((m: bigint, p: any) => (p.rx_bytes > m ? p.rx_bytes : m), 0n);
      assert.ok(largest <= crossed / 3n + 1000n, `one hour holds ${largest} of ${crossed}`);
    });
  }
});
