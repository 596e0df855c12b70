/**
 * Browser tests' toolbox: Debian's Chromium through playwright-core, a dashboard build that is never
 * stale, polling with a deadline instead of sleeps, and the (git-ignored) screenshot folder.
 *
 *   if (!hasChromium()) return t.skip(CHROMIUM_MISSING);
 *   const browser = await launchBrowser();
 *   t.after(() => browser.close());
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CHROMIUM_PATH = process.env.NETPULSE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'e2e');

export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** executablePath: another Chromium, or a wrapper that starts it (e.g. inside a network namespace). */
export function launchBrowser(executablePath: string = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

function newestMtimeMs(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtimeMs(path.join(entry, name)));
  return newest;
}

/** Runs `npm run build -w frontend` when frontend/dist is missing or older than the sources. */
export function ensureFrontendBuilt(): void {
  const frontend = path.join(REPO_ROOT, 'frontend');
  const built = path.join(frontend, 'dist', 'index.html');
  const sources = ['src', 'index.html', 'vite.config.ts'].map((p) => path.join(frontend, p)).filter((p) => existsSync(p));
  const shared = path.join(REPO_ROOT, 'src', 'shared');
  if (existsSync(shared)) sources.push(shared);
  const sourceMtime = Math.max(...sources.map(newestMtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs >= sourceMtime) return;
  execFileSync('npm', ['run', 'build', '-w', 'frontend'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited when the deadline passes. */
  message: string;
}

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns that;
 * throws with `message` (and the last value seen) once the deadline passes.
 */
export async function waitUntil<T>(probe: () => T | Promise<T>, options: WaitOptions): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last !== undefined && last !== null && last !== false) return last as Exclude<T, undefined | null | false>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${options.message} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/**
 * How many pixels of the chart canvas ([data-testid=chart] canvas) are within `tolerance` of a colour, with an
 * alpha in [alpha[0], alpha[1]) as getImageData gives it (unpremultiplied), counted in the page.
 */
export function chartPixels(page: Page, match: { rgb: readonly [number, number, number]; tolerance: number; alpha: readonly [number, number] }): Promise<number> {
  const [r, g, b] = match.rgb;
  return page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid=chart] canvas');
    if (!canvas) return 0;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] >= ${match.alpha[0]} && data[i + 3] < ${match.alpha[1]} && Math.abs(data[i] - ${r}) < ${match.tolerance} && Math.abs(data[i + 1] - ${g}) < ${match.tolerance} && Math.abs(data[i + 2] - ${b}) < ${match.tolerance}) n++;
    }
    return n;
  })()`);
}
