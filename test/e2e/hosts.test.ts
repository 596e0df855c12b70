/**
 * Issue #9, the Hosts page in Debian's Chromium: against a real server counting a real peer in a namespace
 * (Chromium runs in that namespace too, so it reaches the server on its loopback), and with the feature off.
 * Every wait is a condition with a deadline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CHROMIUM_MISSING, CHROMIUM_PATH, ensureFrontendBuilt, hasChromium, launchBrowser, screenshotPath, waitUntil } from '../helpers/browser.js';
import { createHostLab } from '../helpers/flows-lab.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { startTestServer } from '../helpers/server.js';

const KERNEL_SKIP = netnsSkipReason();

test('Hosts page: the counted peer with its share and chart, renamed in place, at phone width too', { skip: !hasChromium() ? CHROMIUM_MISSING : (KERNEL_SKIP ?? false), timeout: 180_000 }, async (t) => {
  ensureFrontendBuilt();
  const lab = await createHostLab(t);
  const { h } = lab.names as Record<'h', string>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np9h-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const np = await lab.startNetPulse(h, { dbPath: path.join(dir, 'np.db'), env: { NETPULSE_FLOWS: 'on', NETPULSE_POLL_INTERVAL: '1' } });
  await lab.transfer(h, '10.9.1.2', 200_000, 800_000);
  const peerId = 'mac-02-00-00-09-00-41';
  await waitUntil(async () => (await np.ok<{ data: { id: string }[] }>('GET', '/api/hosts?time_window_hours=1')).data.some((x) => x.id === peerId), { message: 'the peer to be counted', timeoutMs: 30_000 });

  const wrapper = path.join(dir, 'chromium-in-ns');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${h} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
  const browser = await launchBrowser(wrapper);
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${np.url}/#/hosts`);
  const row = page.locator(`[data-host-id="${peerId}"]`);
  await row.waitFor({ timeout: 30_000 });
  assert.equal((await row.getByTestId('host-share').textContent())?.trim(), '100.0 %', 'the only host has all the bytes');
  assert.equal((await row.getByTestId('host-name').textContent())?.trim(), '10.9.1.2', 'unnamed: shown by its address');
  await page.getByTestId('host-chart').locator('canvas').waitFor({ timeout: 15_000 });

  await row.getByTestId('rename').click();
  await row.getByTestId('rename-input').fill('backup-nas');
  await row.getByTestId('rename-save').click();
  await waitUntil(async () => (await row.getByTestId('host-name').textContent())?.trim() === 'backup-nas', { message: 'the new name on the page', timeoutMs: 15_000 });
  const stored = await np.ok<{ data: { id: string; name: string | null }[] }>('GET', '/api/hosts?time_window_hours=1');
  assert.equal(stored.data.find((x) => x.id === peerId)?.name, 'backup-nas');
  await page.screenshot({ path: screenshotPath('hosts-desktop') });

  await page.setViewportSize({ width: 390, height: 844 });
  await waitUntil(async () => (await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')) <= 0 || null, { message: 'no sideways scrolling at phone width', timeoutMs: 10_000 });
  await page.screenshot({ path: screenshotPath('hosts-phone') });
  await np.stop();
});

test('Hosts page with NETPULSE_FLOWS off says the part is off and why', { skip: !hasChromium() ? CHROMIUM_MISSING : false, timeout: 90_000 }, async (t) => {
  ensureFrontendBuilt();
  const srv = await startTestServer(t);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${srv.url}/#/hosts`);
  const off = page.getByTestId('hosts-off');
  await off.waitFor({ timeout: 30_000 });
  assert.match((await off.textContent()) ?? '', /NETPULSE_FLOWS is off/);
});
