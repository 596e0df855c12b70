/**
 * The Usage view in a real browser (Debian's Chromium via playwright-core) against the real server, on
 * a fixture /proc whose counters keep moving and 45 days of seeded history. Every wait is a condition
 * with a deadline. Screenshots land in test-output/e2e/ (git-ignored).
 *
 *   node --import tsx --test test/e2e/usage.test.ts
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatBytes } from '../../frontend/src/lib/format/units.js';
import type { ApiDataCap, ApiUsageResponse } from '../../src/shared/api-types.js';
import { CHROMIUM_MISSING, ensureFrontendBuilt, hasChromium, launchBrowser, screenshotPath, waitUntil } from '../helpers/browser.js';
import { startFixtureServer, type FixtureServer } from './fixture-server.js';

const TOKEN = 'e2e-usage-token';
const TEST_TIMEOUT_MS = 90_000;
const RX_LIGHT: [number, number, number] = [8, 145, 178];
const TX_LIGHT: [number, number, number] = [234, 88, 12];

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  return (await response.json()) as T;
}

async function putCap(server: FixtureServer, body: object): Promise<ApiDataCap> {
  const response = await fetch(`${server.url}/api/config/data-cap`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as ApiDataCap;
}

/** No cap, the default thresholds, billing months from the 1st. */
function removeCap(server: FixtureServer): Promise<ApiDataCap> {
  return putCap(server, { limit_bytes: null, thresholds_percent: [80, 100], month_start_day: 1 });
}

/** The usage chart section's data-* attributes. */
interface UsageChartState {
  state: string;
  period: string;
  bars: number;
  recorded: number;
  request: string;
  loading: boolean;
}

async function usageChartState(page: Page): Promise<UsageChartState> {
  const chart = page.getByTestId('usage-chart');
  const attr = async (name: string): Promise<string> => (await chart.getAttribute(`data-${name}`)) ?? '';
  return {
    state: await attr('state'),
    period: await attr('period'),
    bars: Number(await attr('bars')),
    recorded: Number(await attr('recorded')),
    request: await attr('request'),
    loading: (await attr('loading')) === 'true',
  };
}

function waitForUsageChart(page: Page, matches: (s: UsageChartState) => boolean, message: string): Promise<UsageChartState> {
  return waitUntil(
    async () => {
      const s = await usageChartState(page);
      return (s.state === 'ready' || s.state === 'empty') && !s.loading && matches(s) ? s : null;
    },
    { message, timeoutMs: 20_000 },
  );
}

/** How many pixels of the usage chart's canvas are close to a colour (the drawn bars). */
function barPixels(page: Page, rgb: [number, number, number]): Promise<number> {
  return page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid=usage-chart] canvas');
    if (!canvas) return 0;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - ${rgb[0]}) < 40 && Math.abs(data[i + 1] - ${rgb[1]}) < 40 && Math.abs(data[i + 2] - ${rgb[2]}) < 40) n++;
    }
    return n;
  })()`);
}

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe('usage view in a real browser', { skip: hasChromium() ? false : CHROMIUM_MISSING, timeout: 10 * 60_000 }, () => {
  let server: FixtureServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function openPage(
    options: { url?: string; width?: number; height?: number; colorScheme?: 'light' | 'dark'; hash?: string; usagePrefs?: object } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      colorScheme: options.colorScheme ?? 'light',
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    contexts.push(context);
    if (options.usagePrefs) {
      await context.addInitScript(`localStorage.setItem('netpulse.usage.v1', ${JSON.stringify(JSON.stringify(options.usagePrefs))})`);
    }
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${options.url ?? server.url}/${options.hash ?? '#/usage'}`);
    return page;
  }

  before(async () => {
    ensureFrontendBuilt();
    server = await startFixtureServer({ env: { NETPULSE_AUTH_TOKEN: TOKEN }, historyDays: 45 });
    browser = await launchBrowser();
    // Let the collector store its first polls, so today's figures include live traffic too.
    await waitUntil(async () => (await getJson<{ polls: number }>(`${server.url}/collector/status`)).polls >= 3, { message: 'three polls' });
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

  it('shows today’s total as GET /api/usage counts it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const todayUrl = `${server.url}/api/usage?period=day&limit=1`;
    const before = (await getJson<ApiUsageResponse>(todayUrl)).rows[0]!;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const answered = page.waitForResponse((r) => {
      const url = new URL(r.url());
      return url.pathname === '/api/usage' && url.searchParams.get('period') === 'day';
    });
    await page.goto(`${server.url}/#/usage`);
    const pageAnswer = (await (await answered).json()) as ApiUsageResponse;
    const card = page.getByTestId('usage-today');
    const shownBytes = Number(await waitUntil(async () => (await card.getAttribute('data-bytes')) || null, { message: 'today’s card to fill' }));
    const after = (await getJson<ApiUsageResponse>(todayUrl)).rows[0]!;

    // The card shows exactly the server's figure for today…
    const todayRow = pageAnswer.rows.find((r) => r.current)!;
    assert.equal(shownBytes, todayRow.total_bytes);
    assert.equal(todayRow.total_bytes, todayRow.rx_bytes + todayRow.tx_bytes);
    assert.equal((await page.getByTestId('usage-today-total').textContent())?.trim(), formatBytes(shownBytes, 'si', 'en-GB'));
    assert.match((await page.getByTestId('usage-today-total').getAttribute('title')) ?? '', new RegExp(`^${shownBytes.toLocaleString('en-GB')} bytes$`));
    // …which the fixture's traffic produced between the two direct reads around it (counters only grow).
    assert.ok(shownBytes > 0, 'the fixture moved bytes today');
    if (before.label === after.label) {
      assert.ok(before.total_bytes <= shownBytes && shownBytes <= after.total_bytes, `${before.total_bytes} ≤ ${shownBytes} ≤ ${after.total_bytes}`);
    }
    assert.equal(await page.getByTestId('usage-title').textContent(), 'Total');
    assert.match((await page.getByTestId('usage-cards').textContent()) ?? '', /Set a monthly cap to see a projection/);
  });

  it('the Usage view is fetched only when it is first opened', { timeout: TEST_TIMEOUT_MS }, async () => {
    const chunks: string[] = [];
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (r) => {
      if (/\/assets\/Usage-[^/]+\.js$/.test(new URL(r.url()).pathname)) chunks.push(r.url());
    });
    await page.goto(`${server.url}/#/`);
    await page.getByTestId('chart').waitFor();
    await waitUntil(async () => (await page.getByTestId('chart').getAttribute('data-state')) === 'ready', { message: 'the dashboard chart' });
    assert.deepEqual(chunks, [], 'the dashboard loaded the Usage chunk');
    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    await waitForUsageChart(page, (s) => s.bars > 0, 'the usage chart after navigating');
    assert.equal(chunks.length, 1);
    assert.equal(await page.title(), 'Usage · Net-Pulse');
  });

  it('draws the bar chart for 30 days and for 12 months', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage();
    const days = await waitForUsageChart(page, (s) => s.period === 'day' && s.state === 'ready', 'the 30-day chart');
    assert.equal(days.bars, 30);
    assert.equal(days.recorded, 30, '45 days of history fill every day');
    assert.match(days.request, /^\/api\/usage\?period=day&limit=30$/);
    await waitUntil(async () => (await barPixels(page, RX_LIGHT)) > 500, { message: 'download bars on the canvas' });
    assert.ok((await barPixels(page, TX_LIGHT)) > 100, 'upload bars on the canvas');
    await page.screenshot({ path: screenshotPath('usage-desktop-light'), fullPage: true });

    await page.getByRole('radio', { name: '12 months' }).check();
    const months = await waitForUsageChart(page, (s) => s.period === 'month', 'the 12-month chart');
    assert.equal(months.bars, 12);
    assert.ok(months.recorded >= 2 && months.recorded <= 3, `45 days touch 2–3 billing months (${months.recorded})`);
    assert.equal(await page.getByRole('heading', { name: 'Monthly totals' }).count(), 1);
    await waitUntil(async () => (await barPixels(page, RX_LIGHT)) > 500, { message: 'monthly bars on the canvas' });

    // The choice is remembered.
    await page.reload();
    await waitForUsageChart(page, (s) => s.period === 'month' && s.bars === 12, 'the 12-month chart after a reload');
  });

  it('the interface picker asks for one interface and back for the total', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openPage();
    await waitForUsageChart(page, (s) => s.state === 'ready', 'the chart');
    const total = Number(await page.getByTestId('usage-month').getAttribute('data-bytes'));
    await page.locator('#usage-interface-select').selectOption('wlan0');
    await waitUntil(async () => (await usageChartState(page)).request.includes('interface=wlan0') || null, { message: 'the wlan0 request' });
    await waitForUsageChart(page, (s) => s.request.includes('interface=wlan0'), 'the wlan0 chart');
    const wlan0 = Number(await page.getByTestId('usage-month').getAttribute('data-bytes'));
    assert.ok(wlan0 > 0 && wlan0 < total / 2, `wlan0 ${wlan0} B is a small part of the total ${total} B`);
    assert.equal(await page.getByTestId('usage-title').textContent(), 'wlan0');
    await page.locator('#usage-interface-select').selectOption('');
    await waitForUsageChart(page, (s) => !s.request.includes('interface='), 'the total again');
  });

  it('a cap set from the page persists across a reload, shows the percent, and can be removed', { timeout: TEST_TIMEOUT_MS }, async () => {
    // A cap a little above the month so far: about 80 % used, so the 50 % threshold has fired.
    const month = (await getJson<ApiUsageResponse>(`${server.url}/api/usage?period=month&limit=1`)).rows[0]!;
    const capGb = Math.max(1, Math.ceil((month.total_bytes * 1.25) / 1e9));
    await removeCap(server);
    const page = await openPage();
    await page.getByTestId('cap-empty').waitFor();
    await page.getByRole('button', { name: 'Set a cap' }).click();
    await waitUntil(async () => (await page.evaluate('document.activeElement?.id')) === 'cap-amount', { message: 'focus on the cap field' });

    const save = page.getByRole('button', { name: 'Save cap' });
    await page.locator('#cap-amount').fill('12,5');
    assert.match((await page.locator('#cap-amount-help').textContent()) ?? '', /Use a point for decimals/);
    assert.equal(await save.isDisabled(), true, 'an invalid amount cannot be saved');
    await page.locator('#cap-amount').fill(String(capGb));
    await page.getByLabel('Cap unit').selectOption('GB');
    await page.locator('#cap-thresholds').fill('50, 80, 100');
    assert.match((await page.locator('#cap-amount-help').textContent()) ?? '', new RegExp(`= ${(capGb * 1e9).toLocaleString('en-GB')} bytes`));
    await save.click();
    // The server wants its token.
    const dialog = page.getByTestId('token-dialog');
    await dialog.waitFor();
    await page.locator('#admin-token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save with token' }).click();
    await waitUntil(async () => /^Saved\./.test((await page.getByTestId('cap-status').textContent())?.trim() ?? ''), { message: 'the cap to be saved' });

    const percentOnPage = async (): Promise<number> => Number(await page.getByTestId('cap-card').getAttribute('data-percent'));
    await waitUntil(async () => (await percentOnPage()) > 0 || null, { message: 'the percent used' });
    const stored = await getJson<ApiDataCap>(`${server.url}/api/config/data-cap`);
    assert.equal(stored.limit_bytes, capGb * 1e9);
    assert.deepEqual(stored.thresholds_percent, [50, 80, 100]);
    assert.ok(Math.abs((await percentOnPage()) - stored.status!.percent_used) < 2, 'the page shows the server’s percent');
    assert.match((await page.getByTestId('cap-percent').textContent()) ?? '', /^\d+(\.\d)?%$/);
    // Crossing 50 % fired an alert at once; it is listed with its time.
    await waitUntil(async () => /50% of the .* cap reached/.test((await page.getByTestId('alerts').textContent()) ?? ''), { message: 'the 50 % alert in the list' });
    assert.equal(await page.getByTestId('alerts').locator('time').first().getAttribute('datetime') !== null, true);

    await page.reload();
    await page.getByTestId('cap-percent').waitFor();
    const amount = Number(await page.locator('#cap-amount').inputValue());
    const unit = await page.getByLabel('Cap unit').inputValue();
    assert.equal(Math.round(amount * (unit === 'TB' ? 1000 : 1)), capGb, `${amount} ${unit} is ${capGb} GB`);
    assert.equal(await page.locator('#cap-thresholds').inputValue(), '50, 80, 100');
    assert.match((await page.getByTestId('cap-card').textContent()) ?? '', new RegExp(`of ${formatBytes(capGb * 1e9, 'si', 'en-GB').replace('.', '\\.')}`));
    const level = await page.getByTestId('cap-card').getAttribute('data-level');
    assert.equal(level, capLevelOf(await percentOnPage()), 'the bar’s colour follows the thresholds');
    await page.screenshot({ path: screenshotPath('usage-with-cap-light'), fullPage: true });

    await page.getByRole('button', { name: 'Remove cap' }).click();
    await waitUntil(async () => /^Cap removed\./.test((await page.getByTestId('cap-status').textContent())?.trim() ?? ''), { message: 'the cap to be removed' });
    await page.getByTestId('cap-empty').waitFor();
    const removed = await getJson<ApiDataCap>(`${server.url}/api/config/data-cap`);
    assert.equal(removed.limit_bytes, null);
    assert.deepEqual(removed.thresholds_percent, [50, 80, 100], 'removing keeps the other settings');
  });

  it('shows the server’s refusal in words', { timeout: TEST_TIMEOUT_MS }, async () => {
    await removeCap(server);
    const page = await openPage();
    await page.getByTestId('cap-empty').waitFor();
    await page.route('**/api/config/data-cap', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({
            status: 409,
            contentType: 'application/json',
            body: JSON.stringify({ statusCode: 409, code: 'MONTH_START_DAY_FROM_ENV', error: 'Conflict', message: '' }),
          })
        : route.fallback(),
    );
    await page.locator('#cap-amount').fill('1');
    await page.getByLabel('Cap unit').selectOption('TB');
    await page.locator('#cap-day').fill('15');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await waitUntil(async () => /^Not saved: The billing day is set by NETPULSE_MONTH_START_DAY/.test((await page.getByTestId('cap-status').textContent())?.trim() ?? ''), {
      message: 'the refusal in words',
    });
  });

  it('a billing day saved on the page moves the billing months', { timeout: TEST_TIMEOUT_MS }, async () => {
    await removeCap(server);
    const page = await openPage({ usagePrefs: { chartPeriod: 'month', interfaceName: null, device: 'local' } });
    await waitForUsageChart(page, (s) => s.state === 'ready', 'the monthly chart');
    await page.locator('#cap-day').fill('15');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await page.getByTestId('token-dialog').waitFor();
    await page.locator('#admin-token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save with token' }).click();
    await waitUntil(async () => /^Saved\. No cap\. Billing months start on the 15th\./.test((await page.getByTestId('cap-status').textContent())?.trim() ?? ''), {
      message: 'the day to be saved',
    });
    await waitUntil(async () => /Billing month from the 15th/.test((await page.locator('.facts').textContent()) ?? '') || null, { message: 'the new billing day in the title' });
    const months = await getJson<ApiUsageResponse>(`${server.url}/api/usage?period=month&limit=1`);
    assert.equal(months.month_start_day, 15);
    assert.match(months.rows[0]!.start_date, /-15$/);
    await removeCap(server);
  });

  it('the billing day is locked with an explanation when the environment sets it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const fixed = await startFixtureServer({ env: { NETPULSE_MONTH_START_DAY: '15' } });
    try {
      const page = await openPage({ url: fixed.url });
      await page.getByTestId('cap-form').waitFor();
      await waitUntil(async () => (await page.locator('#cap-day').isDisabled()) || null, { message: 'the day field to be disabled' });
      assert.equal(await page.locator('#cap-day').inputValue(), '15');
      assert.match((await page.getByTestId('cap-day-help').textContent()) ?? '', /Set by NETPULSE_MONTH_START_DAY on the server \(15th\)/);
      await waitUntil(async () => /Billing month from the 15th/.test((await page.locator('.facts').textContent()) ?? '') || null, { message: 'the billing day in the title' });
      // A cap can still be set: the body leaves the day out.
      await page.locator('#cap-amount').fill('3');
      await page.getByLabel('Cap unit').selectOption('TB');
      await page.getByRole('button', { name: 'Save cap' }).click();
      await waitUntil(async () => /^Saved\./.test((await page.getByTestId('cap-status').textContent())?.trim() ?? ''), { message: 'the cap to be saved' });
      assert.equal((await getJson<ApiDataCap>(`${fixed.url}/api/config/data-cap`)).limit_bytes, 3e12);
    } finally {
      await fixed.close();
    }
  });

  it('has no device picker without sync, and one that passes device= when devices are listed', { timeout: TEST_TIMEOUT_MS }, async () => {
    await removeCap(server);
    const plain = await openPage();
    await waitForUsageChart(plain, (s) => s.state === 'ready', 'the chart');
    assert.equal(await plain.locator('#device-select').count(), 0, 'no picker without sync');

    // The server has no PostgreSQL here: /api/devices and the all-devices answers are stood in for.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const nas = '3b2d7c1e-5f0a-4c9b-8e21-6d4f0a9b7c31';
    await page.route('**/api/devices', async (route) => {
      const real = (await (await route.fetch()).json()) as { devices: { month: { rx_bytes: number; tx_bytes: number; total_bytes: number } }[] };
      const local = real.devices[0]!;
      await route.fulfill({
        json: {
          ...real,
          sync: { configured: true, state: 'ok', target: 'postgres://db/netpulse', last_success: new Date().toISOString(), last_error: null, outage_since: null },
          devices: [local, { ...local, id: nas, name: 'nas', is_local: false, interfaces: ['enp3s0'], month: { rx_bytes: 10, tx_bytes: 5, total_bytes: 15 } }],
          all: { rx_bytes: local.month.rx_bytes + 10, tx_bytes: local.month.tx_bytes + 5, total_bytes: local.month.total_bytes + 15 },
        },
      });
    });
    const deviceParams: string[] = [];
    await page.route(/\/api\/usage\?/, async (route) => {
      const url = new URL(route.request().url());
      const device = url.searchParams.get('device');
      if (device === null) return route.fallback();
      deviceParams.push(device);
      url.searchParams.delete('device');
      const real = (await (await route.fetch({ url: url.toString() })).json()) as ApiUsageResponse;
      // "All devices": this device's rows doubled, so the page's figure can be told apart.
      const rows = real.rows.map((r) => ({ ...r, rx_bytes: r.rx_bytes * 2, tx_bytes: r.tx_bytes * 2, total_bytes: r.total_bytes * 2, estimate: null }));
      await route.fulfill({ json: { ...real, device: { id: 'all', name: 'All devices', is_local: false }, rows } });
    });
    await page.goto(`${server.url}/#/usage`);
    const picker = page.locator('#device-select');
    await picker.waitFor();
    const labels = await picker.locator('option').allTextContents();
    assert.deepEqual(labels.slice(1), ['nas', 'All devices']);
    assert.match(labels[0]!, /^This device \(.+\)$/);
    await waitForUsageChart(page, (s) => s.state === 'ready', 'this device’s chart');
    const local = Number(await page.getByTestId('usage-month').getAttribute('data-bytes'));
    await picker.selectOption('all');
    await waitForUsageChart(page, (s) => s.request.includes('device=all'), 'the all-devices chart');
    const all = Number(await page.getByTestId('usage-month').getAttribute('data-bytes'));
    assert.ok(deviceParams.includes('all'));
    assert.ok(all >= 2 * local, `all devices ${all} B vs this device ${local} B`);
    assert.match((await page.locator('.eyebrow').first().textContent()) ?? '', /Usage · All devices/);
    assert.match((await page.getByTestId('devices').textContent()) ?? '', /nas.*All devices/s);
    assert.match((await page.getByTestId('cap-card').textContent()) ?? '', /Set a monthly cap/);
    await page.screenshot({ path: screenshotPath('usage-all-devices'), fullPage: true });

    // PostgreSQL stops answering: the error in words, and a way back to this device's own figures.
    await page.unroute(/\/api\/usage\?/);
    await page.route(/\/api\/usage\?.*device=all/, (route) =>
      route.fulfill({
        status: 503,
        json: { statusCode: 503, code: 'SYNC_UNAVAILABLE', error: 'Service Unavailable', message: 'PostgreSQL (db) cannot answer now; this device’s own data is still available (device=local)' },
      }),
    );
    await page.reload();
    const error = page.getByTestId('usage-error');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /PostgreSQL \(db\) cannot answer now/);
    await error.getByRole('button', { name: 'Show this device' }).click();
    await waitForUsageChart(page, (s) => !s.request.includes('device='), 'this device’s chart again');
    assert.equal(await page.locator('#device-select').inputValue(), 'local');
  });

  it('a fresh server says there is no data yet and that no cap is set', { timeout: TEST_TIMEOUT_MS }, async () => {
    const quiet = await startFixtureServer({ env: { NETPULSE_POLL_INTERVAL: '3600' } });
    try {
      const page = await openPage({ url: quiet.url });
      const notice = page.getByTestId('usage-no-data');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /No data yet/);
      assert.equal((await usageChartState(page)).state, 'empty');
      assert.match((await page.getByTestId('cap-empty').textContent()) ?? '', /Set a monthly cap to see a projection/);
      await page.getByTestId('alerts-empty').waitFor();
      assert.equal(await page.locator('#device-select').count(), 0);
      await page.screenshot({ path: screenshotPath('usage-no-data'), fullPage: true });
    } finally {
      await quiet.close();
    }
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`a phone-width usage page has no horizontal scroll (${colorScheme})`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await putCap(server, { limit: '6 TB', thresholds_percent: [50, 80, 100], month_start_day: 1 });
      try {
        const page = await openPage({ width: 390, height: 844, colorScheme });
        await waitForUsageChart(page, (s) => s.state === 'ready', 'the chart on a phone');
        await page.getByTestId('cap-percent').waitFor();
        assert.equal(await horizontalOverflow(page), 0, 'usage overflows sideways');
        await page.screenshot({ path: screenshotPath(`usage-phone-${colorScheme}`), fullPage: true });
      } finally {
        await removeCap(server);
      }
    });
  }

  it('looks right on a desktop in dark mode', { timeout: TEST_TIMEOUT_MS }, async () => {
    await putCap(server, { limit: '3 TB', thresholds_percent: [80, 100], month_start_day: 1 });
    try {
      const page = await openPage({ colorScheme: 'dark' });
      await waitForUsageChart(page, (s) => s.state === 'ready', 'the chart');
      await page.getByTestId('cap-percent').waitFor();
      await page.screenshot({ path: screenshotPath('usage-desktop-dark'), fullPage: true });
    } finally {
      await removeCap(server);
    }
  });
});

/** The colour level the page should show for a percent with thresholds 50, 80, 100. */
function capLevelOf(percent: number): string {
  return percent >= 100 ? 'over' : percent >= 50 ? 'warn' : 'ok';
}
