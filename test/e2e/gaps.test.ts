/**
 * Issue #8: the traffic chart shades an interval that could not be counted (counter_gaps, served by
 * GET /api/traffic/gaps), in Debian's Chromium against the real server on a fixture /proc.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openDatabase } from '../../src/storage/db.js';
import { createGapsRepo } from '../../src/storage/gaps-repo.js';
import { CHROMIUM_MISSING, chartPixels, ensureFrontendBuilt, hasChromium, launchBrowser, waitUntil } from '../helpers/browser.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

/** Pixels of the chart canvas in the gap shade (rgba(220, 60, 60, 0.16), unpremultiplied by getImageData). */
const shadePixels = (page: Page) => chartPixels(page, { rgb: [220, 60, 60], tolerance: 30, alpha: [26, 60] });

describe('gap marks on the traffic chart', { skip: hasChromium() ? false : CHROMIUM_MISSING, timeout: 5 * 60_000 }, () => {
  let server: FixtureServer;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    ensureFrontendBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'np8-e2e-'));
    server = await startFixtureServer({ dataDir });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', locale: 'en-GB', timezoneId: 'UTC' });
    await context.addInitScript(`localStorage.setItem('netpulse.prefs.v1', ${JSON.stringify(JSON.stringify({ windowHours: 1, groupMinutes: 1 }))})`);
    const page = await context.newPage();
    await page.goto(`${server.url}/#/`);
    return page;
  }

  it('draws no shade without gaps, and shades a recorded gap of eth0', { timeout: 120_000 }, async () => {
    const before = await open();
    await waitUntil(async () => (await before.getByTestId('chart').getAttribute('data-state')) !== 'loading', { message: 'the chart to load' });
    assert.equal(await before.getByTestId('chart').getAttribute('data-gaps'), '0');
    assert.equal(await shadePixels(before), 0, 'no shade without a gap');
    await before.context().close();

    // A gap 30 to 20 minutes ago, as the collector records one (a second connection: SQLite WAL).
    const db = openDatabase(path.join(dataDir, 'np.db'));
    const nowSec = Math.floor(Date.now() / 1000);
    createGapsRepo(db).record([{ interfaceName: 'eth0', startSec: nowSec - 1800, endSec: nowSec - 1200, reason: 'implausible', detail: { field: 'rxBytes' } }]);
    db.close();

    const page = await open();
    await waitUntil(async () => (await page.getByTestId('chart').getAttribute('data-gaps')) === '1', { message: 'the dashboard to read the gap' });
    await waitUntil(async () => (await shadePixels(page)) > 2000, { message: 'the gap to be shaded on the canvas' });
    await page.context().close();
  });
});
