import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TrafficSample } from '../../src/storage/traffic-repo.js';
import { startTestServer } from '../helpers/server.js';

const zero = { rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
/** A day's traffic: 40 MB an hour (36 rx, 4 tx). */
const DAY_BYTES = 960_000_000;

test('the current billing month and the cap carry the month-end scenarios with the day the cap is reached', async (t) => {
  const srv = await startTestServer(t);
  const { traffic, runs, db } = srv.server.ctx;
  // 40 days of exactly DAY_BYTES a day on eth0, up to the current hour.
  const hourNow = Math.floor(Date.now() / 3_600_000) * 3600;
  const start = Math.floor(hourNow / 86_400) * 86_400 - 40 * 86_400;
  db.transaction(() => {
    runs.end(runs.begin(start, hourNow), hourNow);
    const samples: TrafficSample[] = [];
    for (let s = start; s < hourNow; s += 3600) samples.push({ interfaceName: 'eth0', startSec: s, endSec: s + 3600, counters: { rxBytes: 36_000_000n, txBytes: 4_000_000n, ...zero } });
    traffic.write(samples);
  })();

  const usage = await srv.get('/api/usage?period=month&interface=eth0');
  assert.equal(usage.status, 200, usage.text);
  const current = usage.body.rows.find((r: { current: boolean }) => r.current);
  const length = (Date.parse(current.end) - Date.parse(current.start)) / 86_400_000;
  assert.deepEqual(current.scenarios.map((s: { name: string }) => s.name), ['last_7_days_pace', 'typical_week', 'busy_week']);
  for (const s of current.scenarios) {
    // Every pace is DAY_BYTES a day; only the minutes of the current hour are not in the history.
    assert.ok(Math.abs(Number(s.projected_bytes) - length * DAY_BYTES) < DAY_BYTES / 24 + 1000, `${s.name}: ${s.projected_bytes} vs ${length * DAY_BYTES}`);
    assert.equal(s.reason, null);
  }
  // Constant use: both paces predicted every past week exactly.
  assert.equal(Number(current.scenario_skill.typical_week_error_percent), 0);
  assert.ok(Number(current.scenario_skill.origins) >= 3);
  assert.equal(usage.body.rows.filter((r: { scenarios?: unknown }) => r.scenarios !== undefined).length, 1);
  const days = await srv.get('/api/usage?period=day&limit=3');
  assert.ok(days.body.rows.every((r: { scenarios?: unknown }) => r.scenarios === undefined));

  const put = await srv.put('/api/config/data-cap', { limit_bytes: 9.5 * DAY_BYTES, interface: 'eth0' });
  assert.equal(put.status, 200, put.text);
  const scenarios = put.body.status.scenarios;
  assert.equal(scenarios.length, 3);
  const reached = new Date(Date.parse(put.body.status.start) + 9 * 86_400_000).toISOString().slice(0, 10);
  for (const s of scenarios) assert.equal(s.cap_reached_on, reached, s.name);
  const rxOnly = await srv.put('/api/config/data-cap', { limit_bytes: 9.5 * DAY_BYTES, interface: 'eth0', direction: 'tx' });
  // A tenth of it a day never reaches 9.5 days' worth in a month.
  assert.ok(rxOnly.body.status.scenarios.every((s: { cap_reached_on: string | null }) => s.cap_reached_on === null));
});
