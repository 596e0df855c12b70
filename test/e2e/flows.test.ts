/**
 * Issue #9, the Flows page in Debian's Chromium against a real server with flows and classification on, in
 * the router namespace of a conntrack lab (test/helpers/conntrack-lab.ts): real conntrack flows between the
 * lab's namespaces — a TLS flow from c2 to a name the lab DNS resolves (labelled voice from its SNI) that
 * keeps sending, and a short UDP flow from c1 (labelled file from the DNS answer). Chromium runs in the router
 * namespace too, so it reaches the server on that loopback. Every wait is a condition with a deadline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM_MISSING, CHROMIUM_PATH, ensureFrontendBuilt, hasChromium, launchBrowser, screenshotPath, waitUntil } from '../helpers/browser.js';
import { createFlowsLab, flowsLabSkipReason } from '../helpers/conntrack-lab.js';
import { startTestServer } from '../helpers/server.js';

const SKIP = !hasChromium() ? CHROMIUM_MISSING : flowsLabSkipReason();

const RESOLVE = `
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
async function resolve(name, server) {
  const s = dgram.createSocket('udp4');
  const answer = new Promise((res, rej) => { s.once('message', (m) => res(dnsPacket.decode(m))); setTimeout(() => rej(new Error('no DNS answer')), 10000); });
  s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
  const a = await answer; s.close();
  return a.answers.find((x) => x.type === 'A').data;
}
`;

/** TLS to a name: the handshake, then 4 KiB every 300 ms (echoed back) until the stop file appears (at most 3 min). */
const TLS_TRICKLE = `${RESOLVE}
import fs from 'node:fs';
import tls from 'node:tls';
const [name, dnsServer, stopFile] = process.argv.slice(2);
const address = await resolve(name, dnsServer);
const t = tls.connect({ host: address, port: 443, servername: name, rejectUnauthorized: false });
await new Promise((r, j) => { t.once('secureConnect', r); t.once('error', j); });
t.on('data', () => {});
process.stdout.write(JSON.stringify({ address, localPort: t.localPort }) + '\\n');
for (let i = 0; i < 600 && !fs.existsSync(stopFile); i++) { t.write(Buffer.alloc(4096, 0x62)); await new Promise((r) => setTimeout(r, 300)); }
t.end();
await new Promise((r) => t.once('close', r));
`;

/** A few UDP datagrams to a name, echoed back; the flow ends when its conntrack entry times out. */
const UDP_BURST = `${RESOLVE}
const [name, dnsServer] = process.argv.slice(2);
const address = await resolve(name, dnsServer);
const s = dgram.createSocket('udp4');
let received = 0;
const all = new Promise((res) => s.on('message', () => { if (++received === 10) res(); }));
for (let i = 0; i < 10; i++) await new Promise((r) => s.send(Buffer.alloc(1000, 0x61), 7777, address, r));
await Promise.race([all, new Promise((r) => setTimeout(r, 10000))]);
s.close();
process.stdout.write(JSON.stringify({ address, received }) + '\\n');
`;

const rowBytes = async (page: Page, selector: string): Promise<number | null> => {
  const v = await page.locator(selector).first().getByTestId('flow-bytes').getAttribute('data-bytes', { timeout: 2000 }).catch(() => null);
  return v === null ? null : Number(v);
};

test('Flows page: a live TLS flow with its growing bytes, name and category; filters; traffic by category; the stream closed on leaving', { skip: SKIP ?? false, timeout: 600_000 }, async (t) => {
  ensureFrontendBuilt();
  const lab = await createFlowsLab(t, (wan) => ({ 'us04web.zoom.us': wan(2), 'cdn.steamcontent.com': wan(3) }));
  const dbDir = fs.mkdtempSync(path.join(lab.tmp, 'db-'));
  const np = await lab.startNetPulse(lab.ns.r, {
    dbPath: path.join(dbDir, 'np.db'),
    env: { NETPULSE_FLOWS: 'on', NETPULSE_CLASSIFY: 'on', NETPULSE_FLOW_DUMP_SEC: '1', NETPULSE_LAN_CIDRS: '10.91.0.0/16' },
  });
  await waitUntil(async () => (await np.request('GET', '/api/flows')).status === 200, { message: 'flow tracking to be on', timeoutMs: 120_000, intervalMs: 500 });

  // The long TLS flow from c2: it keeps sending until the stop file appears.
  const stopFile = path.join(lab.tmp, 'stop-tls');
  const tlsScript = lab.writeScript('tls-trickle.mjs', TLS_TRICKLE);
  const client = lab.spawnIn(lab.ns.c2, process.execPath, [tlsScript, 'us04web.zoom.us', lab.wan(2), stopFile]);
  t.after(() => {
    if (fs.existsSync(lab.tmp)) fs.writeFileSync(stopFile, '');
  });
  let clientOut = '';
  client.stdout!.on('data', (d: Buffer) => (clientOut += d.toString()));
  client.stderr!.on('data', (d: Buffer) => (clientOut += d.toString()));
  const tls = await waitUntil(() => {
    if (client.exitCode !== null) throw new Error(`TLS client exited: ${clientOut}`);
    const line = clientOut.split('\n').find((l) => l.startsWith('{'));
    return line === undefined ? null : (JSON.parse(line) as { address: string; localPort: number });
  }, { message: 'the TLS client to connect', timeoutMs: 60_000 });
  const tlsSrc = `${lab.lan(11)}:${tls.localPort}`;

  const wrapper = path.join(lab.tmp, 'chromium-in-ns');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.ns.r} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
  const browser = await launchBrowser(wrapper);
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Every EventSource the page opens, kept so the test can see it closed after leaving the page.
  await page.addInitScript(`{
    const Original = window.EventSource;
    const opened = [];
    window.__eventSources = opened;
    window.EventSource = class extends Original {
      constructor(url, init) {
        super(url, init);
        opened.push(this);
      }
    };
  }`);
  await page.goto(`${np.url}/#/flows`);

  // 1. The TLS flow in the live table, named from its SNI, labelled voice, its bytes growing.
  const tlsRow = `[data-testid="flow-row"]:has([data-testid="flow-src"]:text-is("${tlsSrc}"))`;
  await page.locator(tlsRow).waitFor({ timeout: 120_000 });
  await waitUntil(async () => (await page.locator(tlsRow).getByTestId('flow-domain').textContent())?.trim() === 'us04web.zoom.us', { message: 'the domain from the SNI on the row', timeoutMs: 60_000 });
  assert.equal((await page.locator(tlsRow).getByTestId('flow-category').textContent())?.trim(), 'Voice');
  assert.equal((await page.locator(tlsRow).getByTestId('flow-dst').textContent())?.trim(), `${tls.address}:443`);
  const first = await waitUntil(() => rowBytes(page, tlsRow), { message: 'the TLS row to carry bytes', timeoutMs: 30_000 });
  const grown = await waitUntil(async () => {
    const b = await rowBytes(page, tlsRow);
    return b !== null && b > first ? b : null;
  }, { message: `the TLS row's bytes to grow past ${first} (live events)`, timeoutMs: 120_000, intervalMs: 250 });
  assert.ok(grown > first);
  await waitUntil(async () => /\d/.test((await page.locator(tlsRow).getByTestId('flow-rate').textContent()) ?? ''), { message: 'a rate on the TLS row', timeoutMs: 60_000 });
  const apiFlow = (await np.ok<{ data: { src_port: number; orig_bytes: number; reply_bytes: number }[] }>('GET', '/api/flows?state=active&limit=500')).data.find((f) => f.src_port === tls.localPort);
  assert.ok(apiFlow !== undefined && apiFlow.orig_bytes + apiFlow.reply_bytes >= grown, 'the API counts at least what the page showed');

  // 2. A short UDP flow from c1 (file): it ends, and shows among the recently ended flows.
  const udp = await lab.node<{ address: string; received: number }>(lab.ns.c1, UDP_BURST, ['cdn.steamcontent.com', lab.wan(2)]);
  assert.equal(udp.received, 10);

  // 3. Filters: by host (c1 has no active TLS flow; c2 has it) and by category.
  await waitUntil(async () => (await page.getByTestId('flows-host').locator('option').allTextContents()).includes(lab.lan(11)), { message: 'c2 among the host choices', timeoutMs: 30_000 });
  await page.getByTestId('flows-category').selectOption('file');
  await waitUntil(async () => (await page.locator(tlsRow).count()) === 0, { message: 'the voice flow hidden by the file filter', timeoutMs: 15_000 });
  await page.getByTestId('flows-category').selectOption('voice');
  await page.locator(tlsRow).waitFor({ timeout: 15_000 });
  await page.getByTestId('flows-category').selectOption('');
  await page.getByTestId('flows-host').selectOption(lab.lan(11));
  await page.locator(tlsRow).waitFor({ timeout: 15_000 });
  const shownForC2 = await page.getByTestId('flow-row').evaluateAll((rows) => rows.map((r) => r.querySelector('[data-testid="flow-src"]')?.textContent ?? ''));
  assert.ok(shownForC2.length > 0 && shownForC2.every((s) => s.startsWith(`${lab.lan(11)}:`)), `only c2's flows: ${shownForC2.join(', ')}`);
  await page.getByTestId('flows-host').selectOption('');

  // 4. Sorting by start: the newest first, then the oldest first.
  await page.getByTestId('sort-started').click();
  await waitUntil(async () => (await page.locator('th[aria-sort="descending"]').textContent())?.includes('Started') ?? false, { message: 'sorted by start, newest first', timeoutMs: 5000 });

  // 5. Recently ended: the UDP flow, once conntrack destroyed it, with its name and category.
  await page.getByTestId('flows-recent').check();
  const udpRow = `[data-testid="flow-row"]:has([data-testid="flow-dst"]:text-is("${udp.address}:7777"))`;
  await page.locator(udpRow).waitFor({ timeout: 240_000 });
  assert.equal((await page.locator(udpRow).getByTestId('flow-domain').textContent())?.trim(), 'cdn.steamcontent.com');
  assert.equal((await page.locator(udpRow).getByTestId('flow-category').textContent())?.trim(), 'Files');
  assert.equal(Number(await page.locator(udpRow).getByTestId('flow-bytes').getAttribute('data-bytes')), 20 * 1028, '10 datagrams each way, 1,000 B + IPv4 and UDP headers');

  // 6. Traffic by category: voice and file, the totals the API gives.
  const chart = page.getByTestId('category-chart');
  await chart.locator('canvas').waitFor({ timeout: 60_000 });
  await waitUntil(async () => (await chart.locator('[data-category="file"]').count()) > 0 && (await chart.locator('[data-category="voice"]').count()) > 0, { message: 'voice and file in the category totals', timeoutMs: 90_000 });
  const cats = await np.ok<{ data: { category: string; bytes: number }[] }>('GET', '/api/traffic/categories?time_window_hours=24');
  assert.equal(cats.data.find((c) => c.category === 'file')?.bytes, 20 * 1028);
  await page.screenshot({ path: screenshotPath('flows-desktop') });

  // 7. Phone width: no sideways scrolling of the page (the table scrolls in its card).
  await page.setViewportSize({ width: 390, height: 844 });
  await waitUntil(async () => (await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')) <= 0 || null, { message: 'no sideways scrolling at phone width', timeoutMs: 10_000 });
  await page.screenshot({ path: screenshotPath('flows-phone') });

  // 8. Leaving the page closes its stream.
  const streams = () => page.evaluate<number[]>("window.__eventSources.filter((e) => e.url.includes('/api/flows/live')).map((e) => e.readyState)");
  assert.ok((await streams()).includes(1), 'the flows stream is open while the page shows');
  await page.goto(`${np.url}/#/hosts`);
  await waitUntil(async () => (await streams()).every((s) => s === 2), { message: 'every flows stream closed after leaving the page', timeoutMs: 10_000 });

  fs.writeFileSync(stopFile, '');
  await np.stop();
});

test('Flows page with NETPULSE_FLOWS off says that flows are off and why', { skip: !hasChromium() ? CHROMIUM_MISSING : false, timeout: 90_000 }, async (t) => {
  ensureFrontendBuilt();
  const srv = await startTestServer(t);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${srv.url}/#/flows`);
  const off = page.getByTestId('flows-off');
  await off.waitFor({ timeout: 30_000 });
  assert.match((await off.textContent()) ?? '', /NETPULSE_FLOWS is off/);
  assert.equal(await page.getByTestId('flows-table').count(), 0);
});
