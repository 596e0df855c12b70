/**
 * Alert rules on the real server (fixture /proc, mocked Date so minutes are known): stored and validated
 * through the API, one alert per crossing with its clearing, across a restart, delivered to a webhook, ntfy and
 * a JSON template on local HTTP receivers.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { renderTemplate } from '../../src/alerts/delivery.js';
import { judgeIdle, judgeRate } from '../../src/alerts/rules.js';
import { loadConfig } from '../../src/config/config.js';
import { waitFor } from '../helpers/netns.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(t: TestContext) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const rules = [
  { id: 'wan-busy', type: 'rate_above', interface: 'eth0', direction: 'rx', bytes_per_sec: 1000, minutes: 2 },
  { id: 'total-busy', type: 'rate_above', interface: null, direction: 'total', bytes_per_sec: 1_000_000, minutes: 1 },
  { id: 'wifi-down', type: 'interface_down', interface: 'wlan0' },
  { id: 'wifi-quiet', type: 'no_traffic', interface: 'wlan0', minutes: 3 },
];

test('judgeRate fires only when every minute is above, and clears on the first minute at or below', () => {
  const rule = { id: 'r', type: 'rate_above', interface: null, direction: 'rx', bytes_per_sec: 10, minutes: 3 } as const;
  assert.equal(judgeRate(rule, { minuteBytes: [601n, 700n, 900n] }).state, 'firing');
  assert.equal(judgeRate(rule, { minuteBytes: [600n, 700n, 900n] }).state, 'unchanged');
  assert.equal(judgeRate(rule, { minuteBytes: [700n, 900n, 600n] }).state, 'clear');
  assert.equal(judgeIdle({ windowBytes: 0n, lastMinuteBytes: 0n, covered: true, usualBytes: 0n }).state, 'unchanged', 'an interface that never has traffic is not missing any');
  assert.equal(judgeIdle({ windowBytes: 0n, lastMinuteBytes: 0n, covered: false, usualBytes: 5n }).state, 'unchanged', 'no alert for time the collector did not watch');
});

test('renderTemplate escapes values for JSON strings, and a bad template stops the start naming the variable', () => {
  const body = renderTemplate('{"text":"{{message}} on {{interface}}"}', { event: 'fired', ruleId: 'r', ruleType: 'rate_above', interfaceName: null, message: 'a "quoted"\nline', value: '', atSec: 0, device: { id: 'x', name: 'y' } });
  assert.deepEqual(JSON.parse(body), { text: 'a "quoted"\nline on total' });
  assert.throws(() => loadConfig({ NETPULSE_ALERT_TEMPLATE_URL: 'http://127.0.0.1:1/', NETPULSE_ALERT_TEMPLATE: '{"text": {{message}}' }), /NETPULSE_ALERT_TEMPLATE: is not JSON/);
  assert.throws(() => loadConfig({ NETPULSE_ALERT_TEMPLATE: '{}' }), /without NETPULSE_ALERT_TEMPLATE_URL/);
});

test('alert rules: validated and stored, one alert per crossing with its clearing, across a restart, on every channel', { timeout: 120_000 }, async (t) => {
  const hook = await receiver(t);
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 5, 1, 12, 0, 10) });
  const srv: TestServer = await startTestServer(t, {
    env: {
      NETPULSE_ALERT_WEBHOOK_URL: `${hook.url}/hook`,
      NETPULSE_ALERT_NTFY_URL: `http://user:pw@${hook.url.slice(7)}/ntfy-topic`,
      NETPULSE_ALERT_TEMPLATE_URL: `${hook.url}/template`,
      NETPULSE_ALERT_TEMPLATE: '{"text":"{{message}}","event":"{{event}}","rule":"{{rule}}"}',
      NETPULSE_AUTH_TOKEN: 'secret',
    },
  });
  const auth = { authorization: 'Bearer secret' };
  const put = (body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${srv.url}/api/config/alert-rules`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  // Validation: bad input is a 4xx with a stable code and changes nothing; writes need the token.
  assert.equal((await put({ rules }, {})).status, 401);
  const dup = await put({ rules: [rules[0], rules[0]] });
  assert.equal(dup.status, 400);
  assert.equal(((await dup.json()) as { code: string }).code, 'INVALID_ALERT_RULES');
  const badType = await put({ rules: [{ id: 'x', type: 'rate_above', interface: 'eth0', direction: 'up', bytes_per_sec: 1, minutes: 1 }] });
  assert.equal(badType.status, 400);
  assert.equal(((await badType.json()) as { code: string }).code, 'VALIDATION_ERROR');
  assert.deepEqual((await srv.get('/api/config/alert-rules')).body.rules, []);
  assert.equal((await put({ rules })).status, 200);
  const stored = (await srv.get('/api/config/alert-rules')).body;
  assert.equal(stored.rules.length, 4);
  assert.deepEqual(stored.channels, { webhook: true, ntfy: true, template: true });

  // The token guards POST /collector/collect too: poll through the collector itself.
  const collect = () => srv.server.ctx.collector.pollNow();
  const evaluate = () => srv.server.ctx.ruleAlerts!.evaluate();
  // wlan0 had traffic in the week before (usually has some); then three busy minutes on eth0, wlan0 silent.
  srv.advance('wlan0', { rxBytes: 5000n });
  await collect();
  for (let i = 0; i < 3; i++) {
    t.mock.timers.tick(60_000);
    srv.advance('eth0', { rxBytes: 120_000n });
    await collect();
  }
  t.mock.timers.tick(4 * 60_000);
  srv.advance('eth0', { rxBytes: 600_000n });
  await collect();
  const fired = await evaluate();
  assert.deepEqual(fired.map((e) => `${e.event} ${e.ruleId}`).sort(), ['fired wan-busy', 'fired wifi-quiet']);
  assert.deepEqual(await evaluate(), [], 'the same crossing fires once');

  // A restart remembers the open alerts.
  await srv.restart();
  assert.deepEqual(await srv.server.ctx.ruleAlerts!.evaluate(), []);

  // eth0 calms, wlan0's silence ends.
  t.mock.timers.tick(60_000);
  srv.advance('wlan0', { rxBytes: 10n });
  await collect();
  t.mock.timers.tick(60_000);
  await collect();
  const after = await srv.server.ctx.ruleAlerts!.evaluate();
  assert.deepEqual(after.map((e) => `${e.event} ${e.ruleId}`).sort(), ['cleared wan-busy', 'cleared wifi-quiet']);

  const list = (await srv.get('/api/alerts/rules')).body;
  assert.equal(list.firing, 0n);
  assert.deepEqual(list.alerts.map((a: { rule_id: string; state: string }) => `${a.rule_id} ${a.state}`).sort(), ['wan-busy cleared', 'wifi-quiet cleared']);
  assert.match(list.alerts.find((a: { rule_id: string }) => a.rule_id === 'wan-busy').message, /eth0 ran above 1\.00 kB\/s \(rx\) for 2 minutes/);

  // Four events (two fired, two cleared), each on three channels.
  await waitFor('12 deliveries', async () => (hook.got.length >= 12 ? true : undefined), { timeoutMs: 20_000, maxAttempts: 400 });
  const by = (path: string) => hook.got.filter((g) => g.path === path);
  assert.equal(by('/hook').length, 4);
  assert.deepEqual(by('/hook').map((g) => JSON.parse(g.body).event).sort(), ['rule.cleared', 'rule.cleared', 'rule.fired', 'rule.fired']);
  const ntfy = by('/ntfy-topic');
  assert.equal(ntfy.length, 4);
  assert.equal(ntfy[0]!.headers.authorization, `Basic ${Buffer.from('user:pw').toString('base64')}`);
  assert.ok(ntfy.some((g) => g.headers.tags === 'warning' && /wan-busy/.test(String(g.headers.title))));
  const template = by('/template').map((g) => JSON.parse(g.body) as { text: string; event: string; rule: string });
  assert.equal(template.length, 4);
  assert.ok(template.some((b) => b.event === 'cleared' && b.rule === 'wifi-quiet' && /has traffic again/.test(b.text)));
  await waitFor('deliveries stored', async () => ((await srv.get('/api/alerts/rules')).body.alerts.every((a: { delivery: { status: string } }) => a.delivery.status === 'delivered') ? true : undefined), { timeoutMs: 20_000, maxAttempts: 400 });
});

test('an interface_down rule fires when the interface goes and clears when it is back', { timeout: 60_000 }, async (t) => {
  const srv = await startTestServer(t);
  assert.equal((await srv.put('/api/config/alert-rules', { rules: [{ id: 'wifi-down', type: 'interface_down', interface: 'wlan0' }] })).status, 200);
  const ctx = () => srv.server.ctx.ruleAlerts!;
  assert.deepEqual(await ctx().evaluate(), []);
  srv.tree.removeInterface('wlan0');
  assert.deepEqual((await ctx().evaluate()).map((e) => `${e.event} ${e.value}`), ['fired gone']);
  assert.deepEqual(await ctx().evaluate(), []);
  srv.tree.addInterface('wlan0', { wireless: true });
  assert.deepEqual((await ctx().evaluate()).map((e) => e.event), ['cleared']);
  const list = (await srv.get('/api/alerts/rules')).body;
  assert.equal(list.alerts[0].delivery.status, 'not_configured');
});
