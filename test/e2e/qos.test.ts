/**
 * The QoS page in Debian's Chromium (issue #10) against the real server shaping a real uplink: Net-Pulse
 * runs as uid 65534 with CAP_NET_ADMIN in the router namespace of an np10-* lab (test/helpers/qos-lab.ts),
 * and Chromium is started inside that namespace too (a wrapper runs it through `ip netns exec`;
 * playwright talks to it over a pipe), so nothing is reachable from, or added to, the root namespace.
 *
 * The person: applies shaping with a 60 s rollback, sees the countdown, keeps it, sees per-class live
 * rates while traffic flows, and removes it again — at phone width without sideways scrolling.
 * Needs root, the lab's tools and Chromium; skipped otherwise.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM_MISSING, CHROMIUM_PATH, ensureFrontendBuilt, hasChromium, screenshotPath, waitUntil } from '../helpers/browser.js';
import { WAN_IF, createQosLab, qosLabSkipReason } from '../helpers/qos-lab.js';

const SKIP = qosLabSkipReason() ?? (hasChromium() ? null : CHROMIUM_MISSING);

test('the QoS page applies shaping with a rollback countdown, keeps it, shows live class rates and removes it (phone width)', { skip: SKIP ?? false, timeout: 600_000 }, async (t) => {
  ensureFrontendBuilt();
  const lab = await createQosLab(t);
  const np = await lab.startNetPulse();
  t.after(() => np.kill9().catch(() => undefined));
  const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(np.output())![1]!;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np10-chromium-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wrapper = path.join(dir, 'chromium-in-router');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.ns.r} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
  const browser = await chromium.launch({ executablePath: wrapper, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });

  await page.goto(`${url}/#/qos`);
  await page.getByRole('heading', { name: 'QoS' }).waitFor();
  await page.getByText('What this kernel can do').waitFor();
  assert.ok(await page.locator('.caps li', { hasText: /^htb$/ }).count(), 'htb is listed as available');

  await page.getByLabel('Interface').selectOption(WAN_IF);
  await page.getByLabel('Upload, kbit/s').fill('20000');
  await page.getByLabel(/Download, kbit\/s/).fill('20000');
  await page.getByRole('button', { name: 'Apply' }).click();
  const countdown = page.getByTestId('qos-countdown');
  await countdown.waitFor({ timeout: 30_000 });
  const seconds = Number(await countdown.locator('.num').textContent());
  assert.ok(seconds > 0 && seconds <= 60, `the countdown shows ${seconds} s`);
  assert.match(await lab.exec(lab.ns.r, 'tc', ['qdisc', 'show', 'dev', WAN_IF]), /htb 4e50:/, 'the tree is on the interface');
  await waitUntil(async () => Number(await countdown.locator('.num').textContent()) < seconds, { message: 'the countdown to tick', timeoutMs: 10_000 });
  await page.screenshot({ path: screenshotPath('qos-pending-phone'), fullPage: true });

  await page.getByRole('button', { name: 'Keep' }).click();
  await countdown.waitFor({ state: 'detached', timeout: 15_000 });
  const state = await np.ok<{ applied: { confirmed: boolean } }>('GET', '/api/qos');
  assert.equal(state.applied.confirmed, true);

  // Traffic through the router: the web (default) class's live upload rate moves on the page.
  const flow = lab.tcp('c', { streams: 2, seconds: 6 });
  const webRow = page.getByTestId('qos-live').locator('tr', { hasText: 'Web' });
  const shown = await waitUntil(
    async () => {
      const text = (await webRow.locator('td').nth(1).textContent()) ?? '';
      return /[1-9]/.test(text) ? text : null;
    },
    { message: 'a live upload rate for the Web class', timeoutMs: 20_000 },
  );
  t.diagnostic(`Web upload shown: ${shown}`);
  assert.equal(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), 0, 'no sideways scrolling at phone width');
  await page.screenshot({ path: screenshotPath('qos-live-phone'), fullPage: true });
  flow.stop();
  await flow.done.catch(() => undefined);

  await page.getByRole('button', { name: 'Remove' }).click();
  await page.getByTestId('qos-applied').waitFor({ state: 'detached', timeout: 15_000 });
  assert.doesNotMatch(await lab.exec(lab.ns.r, 'tc', ['qdisc', 'show', 'dev', WAN_IF]), /4e50:|ingress/);
  assert.doesNotMatch(await lab.exec(lab.ns.r, 'nft', ['list', 'tables']), /netpulse_qos/);
});
