/**
 * Prometheus and Grafana against the real thing: Debian's promtool checks a live /metrics of a real server,
 * the scrape example in deploy/prometheus, and every PromQL expression of the Grafana dashboard, which may
 * name only metrics /metrics exposes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'netpulse.json');
const SCRAPE_EXAMPLE = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : null;
const skip = PROMTOOL === null ? 'promtool is not installed (Debian package prometheus; .ci/run installs it)' : false;

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Metric names in a text exposition (from its TYPE lines). */
function exposedNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

/** The value of one series, e.g. series(text, 'netpulse_receive_bytes_total{interface="eth0"}'). */
function series(text: string, key: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line?.slice(key.length + 1);
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

function dashboardExpressions(): { where: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string; query?: { query?: string } | string }[] } };
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q !== undefined && q.startsWith('label_values(')) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

/** A Grafana expression as plain PromQL: its variables replaced by values Prometheus accepts. */
function asPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '2m').replaceAll('$__range', '1h').replace(/\$\{?(job|instance|interface)\}?/g, '.*');
}

describe('Prometheus exposition and the Grafana dashboard', { skip }, () => {
  test('/metrics keeps every monitored interface present at 0 before its first traffic, then counts it exactly', async (t) => {
    const srv = await startTestServer(t);
    const before = (await srv.get('/metrics')).text;
    for (const metric of ['netpulse_receive_bytes_total', 'netpulse_transmit_bytes_total', 'netpulse_receive_packets_total', 'netpulse_transmit_drops_total']) {
      for (const name of ['eth0', 'wlan0']) assert.equal(series(before, `${metric}{interface="${name}"}`), '0', `${metric} of ${name} before any traffic`);
    }
    assert.equal(series(before, 'netpulse_collector_up'), '1');
    assert.notEqual(series(before, 'netpulse_collector_poll_duration_seconds'), undefined);
    assert.equal(series(before, 'netpulse_receive_bytes_total{interface="lo"}'), undefined, 'an unmonitored interface without stored traffic has no series');
    srv.advance('eth0', { rxBytes: 12_345n, txBytes: 678n });
    await srv.collect();
    const after = (await srv.get('/metrics')).text;
    assert.equal(series(after, 'netpulse_receive_bytes_total{interface="eth0"}'), '12345');
    assert.equal(series(after, 'netpulse_transmit_bytes_total{interface="eth0"}'), '678');
    assert.equal(series(after, 'netpulse_receive_bytes_total{interface="wlan0"}'), '0');
  });

  test('promtool check metrics accepts a live /metrics, before and after traffic', async (t) => {
    const srv = await startTestServer(t);
    const fresh = promtool(['check', 'metrics'], (await srv.get('/metrics')).text);
    assert.equal(fresh.status, 0, fresh.output);
    srv.advance('eth0', { rxBytes: 1n << 40n, txBytes: 5n });
    srv.advance('wlan0', { rxBytes: 7n });
    await srv.collect();
    const text = (await srv.get('/metrics')).text;
    const counted = promtool(['check', 'metrics'], text);
    assert.equal(counted.status, 0, counted.output);
    // The check can fail: a counter without its _total suffix is refused.
    const broken = promtool(['check', 'metrics'], text.replaceAll('netpulse_receive_bytes_total', 'netpulse_receive_bytes'));
    assert.notEqual(broken.status, 0, 'promtool lints a counter without _total');
  });

  test('promtool check config accepts the scrape example in deploy/prometheus', () => {
    const r = promtool(['check', 'config', SCRAPE_EXAMPLE]);
    assert.equal(r.status, 0, r.output);
    assert.match(readFileSync(SCRAPE_EXAMPLE, 'utf8'), /metrics_path: \/metrics/);
  });

  test('the Grafana dashboard names only metrics that /metrics exposes, and every expression is valid PromQL', async (t) => {
    const srv = await startTestServer(t);
    const exposed = exposedNames((await srv.get('/metrics')).text);
    const exprs = dashboardExpressions();
    assert.ok(exprs.length >= 10, `only ${exprs.length} expressions found`);
    const used = new Set<string>();
    for (const { where, expr } of exprs) {
      const names = [...expr.matchAll(/\b(netpulse_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]!);
      assert.ok(names.length > 0, `${where} reads no Net-Pulse metric: ${expr}`);
      for (const n of names) {
        assert.ok(exposed.has(n), `${where} reads ${n}, which /metrics does not expose`);
        used.add(n);
      }
    }
    for (const n of ['netpulse_receive_bytes_total', 'netpulse_transmit_bytes_total', 'netpulse_collector_up', 'netpulse_collector_last_poll_timestamp_seconds']) {
      assert.ok(used.has(n), `the dashboard shows ${n}`);
    }
    // Every panel query as a recording rule: promtool parses each one with Prometheus' own PromQL parser.
    const dir = mkdtempSync(join(tmpdir(), 'netpulse-grafana-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const rules = exprs.filter((e) => !e.expr.startsWith('label_values(')).map((e, i) => `      - record: netpulse:dashboard_${i}\n        expr: ${JSON.stringify(asPromQL(e.expr))}`);
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = promtool(['check', 'rules', file]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});
