/**
 * The forecast in a real browser (Debian's Chromium via playwright-core) against the real server with 20 days
 * of seeded history: the traffic chart draws the next 24 h dashed with its band and says its measured skill;
 * the Usage page shows the month-end scenarios beside the cap. Every wait is a condition with a deadline.
 *
 *   node --import tsx --test test/e2e/forecast.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM_MISSING, ensureFrontendBuilt, hasChromium, launchBrowser, screenshotPath, waitUntil } from '../helpers/browser.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

const TOKEN = 'e2e-forecast-token';
// The first fit runs in the worker thread on a loaded machine: generous deadlines.
const FIT_DEADLINE_MS = 120_000;

describe('forecast in the browser', { skip: hasChromium() ? false : CHROMIUM_MISSING, timeout: 300_000 }, () => {
  let server: FixtureServer;
  let browser: Browser;

  before(async () => {
    ensureFrontendBuilt();
    server = await startFixtureServer({ historyDays: 20, env: { NETPULSE_AUTH_TOKEN: TOKEN } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the traffic chart shows the next 24 h dashed with its band and says the skill in words', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      const chart = page.getByTestId('chart');
      await waitUntil(async () => (await chart.getAttribute('data-state')) === 'ready', { message: 'the chart has data', timeoutMs: 60_000 });
      const note = page.getByTestId('forecast-skill');
      const text = await waitUntil(async () => ((await note.count()) > 0 && (await note.getAttribute('data-available')) === 'true' ? note.innerText() : null), {
        message: 'the forecast note',
        timeoutMs: FIT_DEADLINE_MS,
        intervalMs: 500,
      });
      assert.match(text, /next 24 h/);
      assert.match(text, /(better|worse) than assuming today repeats yesterday|about as good as assuming today repeats yesterday/);
      assert.equal(await chart.getAttribute('data-forecast-hours'), '24');
      // What the page says is what the API measured.
      const api = (await (await fetch(`${server.url}/api/forecast?horizon_hours=24`)).json()) as { skill: { origins: number } };
      assert.match(text, new RegExp(`last ${api.skill.origins} days?`));
      await page.screenshot({ path: screenshotPath('forecast-chart') });
    } finally {
      await context.close();
    }
  });

  it('the Usage page shows the month-end scenarios beside the cap, with the day it is reached', async () => {
    const put = await fetch(`${server.url}/api/config/data-cap`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ limit: '1 GB' }),
    });
    assert.equal(put.status, 200, await put.clone().text());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/#/usage`);
      const rows = page.getByTestId('scenario');
      await waitUntil(async () => (await rows.count()) === 3, { message: 'three scenarios', timeoutMs: 60_000 });
      const texts = await rows.allInnerTexts();
      assert.match(texts[0]!, /last 7 days' pace/);
      assert.match(texts[1]!, /typical week/);
      assert.match(texts[2]!, /busy week/);
      // Gigabytes a day against a 1 GB cap: every scenario reaches it, and says when.
      for (const t of texts) assert.match(t, /cap reached/, t);
      assert.match(await page.getByTestId('scenario-skill').innerText(), /Scenarios, not a forecast range/);
      await page.screenshot({ path: screenshotPath('forecast-scenarios') });
    } finally {
      await context.close();
    }
  });
});
