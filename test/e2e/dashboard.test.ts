/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against the real server,
 * which reads a fixture /proc whose counters keep moving. Every wait is a condition with a deadline.
 * Screenshots land in test-output/e2e/ (git-ignored).
 *
 *   node --import tsx --test test/e2e/dashboard.test.ts
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import {
  CHROMIUM_MISSING,
  chartPixels,
  ensureFrontendBuilt,
  hasChromium,
  launchBrowser,
  screenshotPath,
  waitUntil,
} from '../helpers/browser.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

const TOKEN = 'e2e-admin-token';
const TEST_TIMEOUT_MS = 90_000;

/** The chart section's data-* attributes: what it shows and for which request. */
interface ChartState {
  state: string;
  request: string;
  points: number;
  buckets: number;
  rxBytes: number;
  loading: boolean;
}

async function chartState(page: Page): Promise<ChartState> {
  const chart = page.getByTestId('chart');
  const attr = async (name: string): Promise<string> => (await chart.getAttribute(`data-${name}`)) ?? '';
  return {
    state: await attr('state'),
    request: await attr('request'),
    points: Number(await attr('points')),
    buckets: Number(await attr('buckets')),
    rxBytes: Number(await attr('rx-bytes')),
    loading: (await attr('loading')) === 'true',
  };
}

/** Waits until the chart shows data for a request that satisfies `matches`. */
function waitForChart(page: Page, matches: (s: ChartState) => boolean, message: string): Promise<ChartState> {
  return waitUntil(
    async () => {
      const s = await chartState(page);
      return s.state === 'ready' && !s.loading && matches(s) ? s : null;
    },
    { message, timeoutMs: 20_000 },
  );
}

function trafficRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/traffic') seen.push(request);
  });
  return seen;
}

function query(request: Request): URLSearchParams {
  return new URL(request.url()).searchParams;
}

/** How many pixels of the chart canvas are close to a colour of a drawn series (opaque). */
const seriesPixels = (page: Page, rgb: [number, number, number]) => chartPixels(page, { rgb, tolerance: 40, alpha: [201, 256] });

const RX_LIGHT: [number, number, number] = [8, 145, 178];

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe('dashboard in a real browser', { skip: hasChromium() ? false : CHROMIUM_MISSING, timeout: 10 * 60_000 }, () => {
  let server: FixtureServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function openPage(
    options: { width?: number; height?: number; colorScheme?: 'light' | 'dark'; hash?: string; prefs?: object } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      colorScheme: options.colorScheme ?? 'light',
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    contexts.push(context);
    if (options.prefs) {
      await context.addInitScript(`localStorage.setItem('netpulse.prefs.v1', ${JSON.stringify(JSON.stringify(options.prefs))})`);
    }
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.url}/${options.hash ?? '#/'}`);
    return page;
  }

  before(async () => {
    ensureFrontendBuilt();
    server = await startFixtureServer({ env: { NETPULSE_AUTH_TOKEN: TOKEN } });
    browser = await launchBrowser();
  });

  afterEach(() => {
    const errors = pageErrors.splice(0);
    assert.deepEqual(errors, [], 'uncaught errors in the page');
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('serves the dashboard at / and draws the traffic chart for the primary interface', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 1, groupMinutes: 1 } });
    await assert.doesNotReject(page.getByRole('heading', { name: 'eth0', level: 1 }).waitFor());
    // A minute after start the newest bucket holds traffic; older ones are gaps (the collector was not running).
    const shown = await waitForChart(page, (s) => s.points >= 1 && s.rxBytes > 0, 'the chart to show a bucket with traffic');
    assert.match(shown.request, /time_window_hours=1&group_minutes=1&interface=eth0$/);
    assert.equal(await page.locator('#interface-select').inputValue(), 'eth0');
    await waitUntil(async () => (await seriesPixels(page, RX_LIGHT)) > 8, { message: 'the download series to be drawn on the canvas' });
    assert.notEqual(await page.getByTestId('total-rx').textContent(), '—');
    await page.screenshot({ path: screenshotPath('dashboard-desktop-light') });
  });

  it('the Time Window slider refetches once after a burst of key presses and redraws', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 24, groupMinutes: 5 } });
    const before = await waitForChart(page, (s) => s.request.includes('time_window_hours=24&group_minutes=5'), 'the 24-hour chart');
    const requests = trafficRequests(page);
    const slider = page.locator('#time-window');
    await slider.focus();
    // 24 h → 12 h → 6 h → 3 h in quick succession: one request, for the last value.
    for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByTestId('time-window-value').textContent(), '3 hours');
    const after = await waitForChart(page, (s) => s.request.includes('time_window_hours=3&'), 'the chart for a 3-hour window');
    assert.equal(after.buckets > 0 && after.buckets < before.buckets, true, `3 h has fewer 5-minute buckets (${after.buckets}) than 24 h (${before.buckets})`);
    const windows = requests.map((r) => query(r).get('time_window_hours'));
    assert.deepEqual([...new Set(windows)], ['3'], `requests sent while the slider moved: ${windows.join(', ')}`);
  });

  it('the Grouping slider changes group_minutes and the number of points', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 1, groupMinutes: 5 } });
    const before = await waitForChart(page, (s) => s.request.includes('group_minutes=5'), 'the 5-minute chart');
    const requests = trafficRequests(page);
    await page.locator('#grouping').focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByTestId('grouping-value').textContent(), '1 minute');
    const after = await waitForChart(page, (s) => s.request.includes('group_minutes=1&'), 'the 1-minute chart');
    assert.ok(after.buckets > before.buckets, `1-minute buckets (${after.buckets}) outnumber 5-minute ones (${before.buckets})`);
    assert.ok(requests.some((r) => query(r).get('group_minutes') === '1'));
  });

  it('the Grouping slider offers only groupings with a sane point count for the window', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 8760, groupMinutes: 1440 } });
    await waitForChart(page, (s) => s.request.includes('time_window_hours=8760&group_minutes=1440'), 'the one-year chart');
    await page.locator('#grouping').focus();
    await page.keyboard.press('Home');
    assert.equal(await page.getByTestId('grouping-value').textContent(), '6 hours');
    const shown = await waitForChart(page, (s) => s.request.includes('group_minutes=360'), 'the year in 6-hour groups');
    assert.ok(shown.buckets <= 1500, `${shown.buckets} buckets`);
  });

  it('switching the interface changes the series, the live feed and the title', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 1, groupMinutes: 1 } });
    const eth0 = await waitForChart(page, (s) => s.request.endsWith('interface=eth0') && s.rxBytes > 0, 'eth0 traffic');
    await page.locator('#interface-select').selectOption('wlan0');
    const wlan0 = await waitForChart(page, (s) => s.request.endsWith('interface=wlan0') && s.rxBytes > 0, 'wlan0 traffic');
    // eth0 downloads about eight times as fast as wlan0 in the fixture.
    assert.ok(wlan0.rxBytes < eth0.rxBytes / 2, `wlan0 ${wlan0.rxBytes} B vs eth0 ${eth0.rxBytes} B`);
    assert.equal(await page.getByTestId('view-title').textContent(), 'wlan0');
    await page.locator('#interface-select').selectOption('');
    const total = await waitForChart(page, (s) => !s.request.includes('interface='), 'the total over monitored interfaces');
    assert.ok(total.rxBytes > 0);
    assert.equal(await page.getByTestId('view-title').textContent(), 'All monitored');
  });

  it('the live rate moves every second and the sparkline fills', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage();
    const live = page.getByTestId('live-rx');
    const first = await waitUntil(async () => {
      const text = (await live.textContent())?.trim();
      return text && text !== '—' ? text : null;
    }, { message: 'a first live reading' });
    const seen = new Set([first]);
    await waitUntil(async () => {
      seen.add((await live.textContent())?.trim() ?? '');
      return seen.size >= 3;
    }, { message: `the live download rate to change twice (saw ${[...seen].join(', ')})`, timeoutMs: 15_000 });
    server.setRate('eth0', { rxBytesPerSec: 40_000_000, txBytesPerSec: 380_000 });
    await waitUntil(async () => /Mbit\/s/.test((await live.textContent()) ?? '') && Number.parseFloat((await live.textContent()) ?? '0') > 150, {
      message: 'the live rate to follow a jump to ~320 Mbit/s',
    });
    server.setRate('eth0', { rxBytesPerSec: 2_400_000, txBytesPerSec: 380_000 });
    const path = await page.getByTestId('sparkline').locator('path').nth(2).getAttribute('d');
    assert.match(path ?? '', /^M[\d.]+ [\d.]+ L/);
  });

  it('a fresh server says there is no data yet and when the first point comes', { timeout: TEST_TIMEOUT_MS }, async () => {
    // An hour between reads: the first stored point is far away, so the state lasts.
    const quiet = await startFixtureServer({ env: { NETPULSE_POLL_INTERVAL: '3600' } });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${quiet.url}/`);
      const notice = page.getByTestId('no-data');
      await notice.waitFor();
      const text = (await notice.textContent()) ?? '';
      // The timer is aligned: a 3600 s interval reads at the top of each hour (UTC here), so the first point comes at
      // hh:00:00 — said as "in N s" in the last 90 s of an hour, "in N min" before.
      const announced = /No data yet.*first point arrives at (\d\d):00:00 \(in (\d+) (s|min)\)/s.exec(text);
      assert.ok(announced, `the notice names the next top of the hour and how far away it is: ${text}`);
      const secondsAway = Number(announced[2]) * (announced[3] === 'min' ? 60 : 1);
      assert.ok(secondsAway <= 3600, `the first point is at most an interval away (${secondsAway} s)`);
      assert.equal(await page.getByTestId('chart').getAttribute('data-state'), 'empty');
      await page.screenshot({ path: screenshotPath('dashboard-no-data-yet') });
    } finally {
      await quiet.close();
    }
  });

  it('an unreachable server shows a banner and the page recovers by itself', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ prefs: { windowHours: 1, groupMinutes: 1 } });
    await waitForChart(page, (s) => s.points > 0, 'the chart');
    await page.route(/\/(api|collector)\//, (route) => route.abort('connectionrefused'));
    await page.locator('#grouping').focus();
    await page.keyboard.press('ArrowRight');
    const banner = page.getByTestId('offline-banner');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /Cannot reach the Net-Pulse server/);
    await page.screenshot({ path: screenshotPath('dashboard-offline') });
    await page.unroute(/\/(api|collector)\//);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await waitForChart(page, (s) => s.request.includes('group_minutes=5'), 'the chart to load after the server came back');
  });

  it('a settings change survives a reload, after the admin token is asked for', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ hash: '#/settings' });
    const wlan0 = page.getByLabel('wlan0', { exact: true });
    await page.getByTestId('interface-list').waitFor();
    assert.equal(await wlan0.isChecked(), true);
    const save = page.getByRole('button', { name: 'Save', exact: true });
    assert.equal(await save.isDisabled(), true, 'nothing to save before a change');

    await wlan0.uncheck();
    await page.locator('#interval-input').fill('5');
    await save.click();
    // The server wants its token: a wrong one first, then the right one.
    const dialog = page.getByTestId('token-dialog');
    await dialog.waitFor();
    await page.screenshot({ path: screenshotPath('settings-token-dialog') });
    await page.locator('#admin-token').fill('wrong-token');
    await page.getByRole('button', { name: 'Save with token' }).click();
    await waitUntil(async () => /not accepted/.test((await dialog.textContent()) ?? '') && (await dialog.isVisible()), {
      message: 'the dialog to say the token was not accepted',
    });
    await page.locator('#admin-token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save with token' }).click();
    await waitUntil(async () => /^Saved\./.test((await page.getByTestId('save-status').textContent())?.trim() ?? ''), {
      message: 'the save to succeed',
    });
    assert.match((await page.getByTestId('save-status').textContent()) ?? '', /Monitoring eth0\./);

    await page.reload();
    await page.getByTestId('interface-list').waitFor();
    assert.equal(await page.getByLabel('wlan0', { exact: true }).isChecked(), false);
    assert.equal(await page.getByLabel('eth0', { exact: true }).isChecked(), true);
    assert.equal(await page.locator('#interval-input').inputValue(), '5');
    assert.match((await page.getByTestId('interval-env').textContent()) ?? '', /NETPULSE_POLL_INTERVAL/);
    const monitored = (await (await fetch(`${server.url}/api/config/monitored_interfaces`)).json()) as string[];
    assert.deepEqual(monitored, ['eth0']);
  });

  it('an empty selection disables Save and says why; leaving without saving changes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ hash: '#/settings' });
    await page.getByTestId('interface-list').waitFor();
    const before = (await (await fetch(`${server.url}/api/config/monitored_interfaces`)).json()) as string[];
    for (const name of before) await page.getByLabel(name, { exact: true }).uncheck();
    const save = page.getByRole('button', { name: 'Save', exact: true });
    assert.equal(await save.isDisabled(), true);
    assert.match((await page.getByTestId('save-status').textContent()) ?? '', /Select at least one interface/);

    await page.getByLabel('docker0', { exact: true }).check();
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.getByTestId('chart').waitFor();
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByTestId('interface-list').waitFor();
    assert.equal(await page.getByLabel('docker0', { exact: true }).isChecked(), false);
    const afterLeaving = (await (await fetch(`${server.url}/api/config/monitored_interfaces`)).json()) as string[];
    assert.deepEqual(afterLeaving, before);
  });

  it('shows the server’s error in words when a save is refused', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ hash: '#/settings' });
    await page.getByTestId('interface-list').waitFor();
    await page.route('**/api/config/monitored_interfaces', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ statusCode: 400, code: 'UNKNOWN_INTERFACE', error: 'Bad Request', message: 'no interface named wlan0 on this machine' }),
          })
        : route.fallback(),
    );
    await page.getByLabel('wlan0', { exact: true }).check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitUntil(async () => /Not saved: no interface named wlan0 on this machine\./.test((await page.getByTestId('save-status').textContent()) ?? ''), {
      message: 'the refusal in words',
    });
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`a phone-width page has no horizontal scroll (${colorScheme})`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const page = await openPage({ width: 390, height: 844, colorScheme, prefs: { windowHours: 1, groupMinutes: 1 } });
      await waitForChart(page, (s) => s.points > 0, 'the chart on a phone');
      await waitUntil(async () => ((await page.getByTestId('live-rx').textContent())?.trim() !== '—' ? true : null), { message: 'a live reading' });
      assert.equal(await horizontalOverflow(page), 0, 'dashboard overflows sideways');
      await page.screenshot({ path: screenshotPath(`dashboard-phone-${colorScheme}`), fullPage: true });
      await page.getByRole('link', { name: 'Settings', exact: true }).click();
      await page.getByTestId('interface-list').waitFor();
      assert.equal(await horizontalOverflow(page), 0, 'settings overflow sideways');
      await page.screenshot({ path: screenshotPath(`settings-phone-${colorScheme}`), fullPage: true });
    });
  }

  it('looks right on a desktop in dark mode', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage({ colorScheme: 'dark', prefs: { windowHours: 1, groupMinutes: 1 } });
    await waitForChart(page, (s) => s.points > 0, 'the chart');
    await page.screenshot({ path: screenshotPath('dashboard-desktop-dark') });
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByTestId('interface-list').waitFor();
    await page.screenshot({ path: screenshotPath('settings-desktop-dark') });
  });
});
