/** With NETPULSE_QOS unset QoS is off (issue #10): GET /api/qos says so and why, every QoS write is refused and nothing changes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

test('QoS is off by default: GET /api/qos says why, writes answer 409 QOS_DISABLED and store nothing', async (t) => {
  const srv = await startTestServer(t);
  const status = await srv.get('/api/qos');
  assert.equal(status.status, 200);
  assert.equal(status.body.allowed, false);
  assert.match(status.body.reason, /NETPULSE_QOS=on/);
  assert.equal(status.body.capabilities, null);
  const body = { interface: 'eth0', upload_kbit: 20000, download_kbit: null, classes: [], default_class: 'web', rules: [], policers: [], fallback_throttle: { enabled: false, target: { class: 'background' }, rate_kbit: 1000 }, keep_on_stop: false };
  for (const [method, path, json] of [['PUT', '/api/qos', { ...body, classes: ['voice', 'video', 'web', 'file', 'background'].map((id) => ({ id, name: id, share_percent: 10, ceil_percent: 100, mark_dscp: null })) }], ['POST', '/api/qos/apply', { confirm_within_seconds: 60, dry_run: true }], ['POST', '/api/qos/confirm', undefined], ['DELETE', '/api/qos', undefined]] as const) {
    const res = await fetch(srv.url + path, { method, headers: json === undefined ? {} : { 'content-type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json) });
    assert.equal(res.status, 409, `${method} ${path}`);
    assert.equal(((await res.json()) as { code: string }).code, 'QOS_DISABLED');
  }
  const stored = srv.server.db.prepare("SELECT COUNT(*) AS n FROM configuration WHERE key LIKE 'qos%'").get() as { n: number };
  assert.equal(stored.n, 0);
});

test('a QoS config with a bad shape is refused before any QoS code runs (400 VALIDATION_ERROR)', async (t) => {
  const srv = await startTestServer(t);
  const res = await srv.put('/api/qos', { interface: 'eth0', upload_kbit: 'fast' });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'VALIDATION_ERROR');
});
