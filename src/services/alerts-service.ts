/**
 * The monthly data cap and its alerts (issue #5). One cap, for an interface or for the total; its billing
 * month is the usage service's (day N to day N, local midnight). After stored polls (at most every
 * few seconds) the month so far is summed from the day tier — a handful of rows — and compared with the
 * cap: crossing a threshold (default 80 % and 100 %) fires an alert, and so does a month-end projection
 * above the cap while the cap is not yet reached.
 *
 * One crossing fires one alert: usage_alerts has a unique key (scope, billing period, kind, threshold,
 * limit), and an alert is logged and sent only when its row was inserted — so evaluating again, from a
 * second caller or after a restart, finds the row and stays quiet. A changed limit is a new cap, whose
 * thresholds may fire again.
 *
 * Alerts go to the log, to GET /api/alerts (the dashboard) and, with NETPULSE_ALERT_WEBHOOK_URL, to a
 * webhook: a JSON POST with a timeout, retried with exponential backoff up to a bounded number of attempts,
 * in the background (never in the poll loop). Delivery state is stored, so a restart resumes pending ones.
 */
import type { ByteUnits } from '../config/config.js';
import type { Logger } from '../shared/logger.js';
import type { Db } from '../storage/db.js';
import {
  ESTIMATE_MIN_ELAPSED_SEC,
  dayStartSec,
  estimateTotal,
  formatBytes,
  isoDateOf,
  localDayNumber,
  periodContaining,
  type UsageService,
} from './usage-service.js';

export type CapDirection = 'both' | 'rx' | 'tx';
export type AlertKind = 'threshold' | 'projection';
export type WebhookStatus = 'not_configured' | 'pending' | 'delivered' | 'failed';

export const DEFAULT_THRESHOLDS_PERCENT: readonly number[] = [80, 100];
/** A projection from less than a day of the month is too noisy to alert on. */
export const PROJECTION_MIN_ELAPSED_SEC = 86_400;
/** Evaluations after polls are at most this often. */
export const EVALUATE_MIN_INTERVAL_MS = 5_000;

export interface DataCap {
  /** null: no cap. */
  limitBytes: bigint | null;
  /** null: the total. */
  interfaceName: string | null;
  direction: CapDirection;
  thresholdsPercent: number[];
  /** The billing month start day stored from the API (NETPULSE_MONTH_START_DAY wins over it); null: unset. */
  storedMonthStartDay: number | null;
  updatedAtSec: number | null;
}

export interface CapStatus {
  /** Billing month label (YYYY-MM of its first day), first day and the day after its last. */
  periodLabel: string;
  startDate: string;
  endDate: string;
  periodStartSec: number;
  periodEndSec: number;
  interfaces: string[];
  rxBytes: bigint;
  txBytes: bigint;
  /** What the cap counts (rx + tx, or one direction). */
  usedBytes: bigint;
  limitBytes: bigint;
  /** Month-end projection (so far × month / elapsed); null in the first hour. */
  projectedBytes: bigint | null;
  percentUsed: number;
  projectedPercent: number | null;
}

export interface AlertRecord {
  id: number;
  kind: AlertKind;
  thresholdPercent: number;
  /** 'total' or 'interface:<name>'. */
  scope: string;
  periodStartSec: number;
  periodEndSec: number;
  limitBytes: bigint;
  usedBytes: bigint;
  projectedBytes: bigint | null;
  firedAtSec: number;
  message: string;
  webhook: { status: WebhookStatus; attempts: number; lastError: string | null };
}

export interface WebhookOptions {
  url: string | null;
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
}

export interface AlertsServiceDeps {
  db: Db;
  usage: UsageService;
  logger: Logger;
  now: () => number;
  units: ByteUnits;
  webhook: WebhookOptions;
  /** Sent with every webhook so a receiver tells devices apart. */
  device: { id: string; name: string };
  evaluateMinIntervalMs?: number;
}

export interface CapInput {
  limitBytes: bigint | null;
  interfaceName: string | null;
  direction: CapDirection;
  thresholdsPercent: number[];
  monthStartDay: number | null;
}

export interface AlertsService {
  getCap(): DataCap;
  setCap(input: CapInput): DataCap;
  /** The cap's billing month so far; null when no cap is set. */
  status(): Promise<CapStatus | null>;
  /** Compares the month so far with the cap; returns the alerts that fired now. */
  evaluate(): Promise<AlertRecord[]>;
  /** After a stored poll: evaluates, at most every evaluateMinIntervalMs, in the background. */
  notifySamples(): void;
  list(limit: number): AlertRecord[];
  /** Resumes webhook deliveries a restart interrupted. */
  start(): void;
  /** Stops timers and pending retries (their state stays 'pending' for the next start). */
  close(): Promise<void>;
}

export interface MonthStartDaySetting {
  /** The effective billing month start day: NETPULSE_MONTH_START_DAY, else the stored one, else 1. */
  get(): number;
  source(): 'env' | 'config' | 'default';
}

/** Reads the stored month start day straight from data_cap (the usage service needs it before the alerts exist). */
export function createMonthStartDaySetting(db: Db, envValue: number | null): MonthStartDaySetting {
  const select = db.prepare<[], { month_start_day: number | null }>('SELECT month_start_day FROM data_cap WHERE id = 1');
  const stored = () => select.get()?.month_start_day ?? null;
  return {
    get: () => envValue ?? stored() ?? 1,
    source: () => (envValue !== null ? 'env' : stored() !== null ? 'config' : 'default'),
  };
}

interface CapRow {
  limit_bytes: bigint | null;
  interface_name: string | null;
  direction: CapDirection;
  thresholds_percent: string;
  month_start_day: bigint | null;
  updated_at: bigint;
}

interface AlertRow {
  id: bigint;
  kind: AlertKind;
  threshold_percent: bigint;
  scope: string;
  period_start: bigint;
  period_end: bigint;
  limit_bytes: bigint;
  used_bytes: bigint;
  projected_bytes: bigint | null;
  fired_at: bigint;
  message: string;
  webhook_status: WebhookStatus;
  webhook_attempts: bigint;
  webhook_last_error: string | null;
}

function toAlert(r: AlertRow): AlertRecord {
  return {
    id: Number(r.id),
    kind: r.kind,
    thresholdPercent: Number(r.threshold_percent),
    scope: r.scope,
    periodStartSec: Number(r.period_start),
    periodEndSec: Number(r.period_end),
    limitBytes: BigInt(r.limit_bytes),
    usedBytes: BigInt(r.used_bytes),
    projectedBytes: r.projected_bytes === null ? null : BigInt(r.projected_bytes),
    firedAtSec: Number(r.fired_at),
    message: r.message,
    webhook: { status: r.webhook_status, attempts: Number(r.webhook_attempts), lastError: r.webhook_last_error },
  };
}

/** Percent with two decimals, from bigints (exact enough for any cap). */
export function percentOf(used: bigint, limit: bigint): number {
  if (limit <= 0n) return 0;
  return Number((used * 10_000n) / limit) / 100;
}

export function scopeOf(interfaceName: string | null): string {
  return interfaceName === null ? 'total' : `interface:${interfaceName}`;
}

/** The JSON an alert is sent and listed as (snake_case, like the rest of the API). */
export function apiAlert(a: AlertRecord) {
  return {
    id: a.id,
    kind: a.kind,
    threshold_percent: a.thresholdPercent,
    scope: a.scope,
    interface: a.scope.startsWith('interface:') ? a.scope.slice('interface:'.length) : null,
    period_start: new Date(a.periodStartSec * 1000).toISOString(),
    period_end: new Date(a.periodEndSec * 1000).toISOString(),
    limit_bytes: a.limitBytes,
    used_bytes: a.usedBytes,
    projected_bytes: a.projectedBytes,
    percent_used: percentOf(a.usedBytes, a.limitBytes),
    fired_at: new Date(a.firedAtSec * 1000).toISOString(),
    message: a.message,
    webhook: { status: a.webhook.status, attempts: a.webhook.attempts, last_error: a.webhook.lastError },
  };
}

/** JSON.stringify that writes bigints as JSON integers (exact). */
export function stringifyWithBigInt(value: unknown, indent?: number): string {
  const marker = '__netpulse_bigint__:';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v), indent).replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

export function splitCredentials(url: string | null): { url: string; authorization: string | null } | null {
  if (url === null) return null;
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url, authorization: null };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

export function createAlertsService(deps: AlertsServiceDeps): AlertsService {
  const { db } = deps;
  const minIntervalMs = deps.evaluateMinIntervalMs ?? EVALUATE_MIN_INTERVAL_MS;
  // fetch refuses URLs with user:password@; they become a Basic Authorization header instead.
  const webhook = splitCredentials(deps.webhook.url);
  const webhookUrl = webhook?.url ?? null;
  const timeoutMs = deps.webhook.timeoutMs ?? 5_000;
  const maxAttempts = deps.webhook.maxAttempts ?? 6;
  const baseDelayMs = deps.webhook.baseDelayMs ?? 1_000;
  const maxDelayMs = deps.webhook.maxDelayMs ?? 60_000;
  const doFetch = deps.webhook.fetch ?? fetch;

  const selectCap = db.prepare('SELECT limit_bytes, interface_name, direction, thresholds_percent, month_start_day, updated_at FROM data_cap WHERE id = 1').safeIntegers(true);
  const upsertCap = db.prepare(
    `INSERT INTO data_cap (id, limit_bytes, interface_name, direction, thresholds_percent, month_start_day, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET limit_bytes = excluded.limit_bytes, interface_name = excluded.interface_name, direction = excluded.direction,
       thresholds_percent = excluded.thresholds_percent, month_start_day = excluded.month_start_day, updated_at = excluded.updated_at`,
  );
  const insertAlert = db.prepare(
    `INSERT INTO usage_alerts (kind, threshold_percent, scope, period_start, period_end, limit_bytes, used_bytes, projected_bytes, fired_at, message, webhook_status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const alertCols = 'id, kind, threshold_percent, scope, period_start, period_end, limit_bytes, used_bytes, projected_bytes, fired_at, message, webhook_status, webhook_attempts, webhook_last_error';
  const selectAlert = db.prepare(`SELECT ${alertCols} FROM usage_alerts WHERE id = ?`).safeIntegers(true);
  const listAlerts = db.prepare(`SELECT ${alertCols} FROM usage_alerts ORDER BY fired_at DESC, id DESC LIMIT ?`).safeIntegers(true);
  const pendingAlerts = db.prepare(`SELECT id FROM usage_alerts WHERE webhook_status = 'pending' ORDER BY id`);
  const updateWebhook = db.prepare('UPDATE usage_alerts SET webhook_status = ?, webhook_attempts = ?, webhook_last_error = ? WHERE id = ?');

  let timer: NodeJS.Timeout | null = null;
  let lastEvalMs = -Infinity;
  let closed = false;
  let evaluating: Promise<unknown> = Promise.resolve();
  const deliveries = new Set<Promise<void>>();
  const sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const aborts = new Set<AbortController>();

  function getCap(): DataCap {
    const row = selectCap.get() as CapRow | undefined;
    if (row === undefined) return { limitBytes: null, interfaceName: null, direction: 'both', thresholdsPercent: [...DEFAULT_THRESHOLDS_PERCENT], storedMonthStartDay: null, updatedAtSec: null };
    return {
      limitBytes: row.limit_bytes === null ? null : BigInt(row.limit_bytes),
      interfaceName: row.interface_name,
      direction: row.direction,
      thresholdsPercent: JSON.parse(row.thresholds_percent) as number[],
      storedMonthStartDay: row.month_start_day === null ? null : Number(row.month_start_day),
      updatedAtSec: Number(row.updated_at),
    };
  }

  async function status(): Promise<CapStatus | null> {
    const cap = getCap();
    if (cap.limitBytes === null) return null;
    const nowSec = Math.floor(deps.now() / 1000);
    const tz = deps.usage.timezone;
    const period = periodContaining(localDayNumber(nowSec, tz), 'month', deps.usage.monthStartDay());
    const interfaces = cap.interfaceName === null ? await deps.usage.totalInterfaces() : [cap.interfaceName];
    const days = await deps.usage.daySource(interfaces).days(isoDateOf(period.start), isoDateOf(period.end));
    let rxBytes = 0n;
    let txBytes = 0n;
    for (const d of days) {
      rxBytes += d.rxBytes;
      txBytes += d.txBytes;
    }
    const usedBytes = cap.direction === 'rx' ? rxBytes : cap.direction === 'tx' ? txBytes : rxBytes + txBytes;
    const periodStartSec = dayStartSec(period.start, tz);
    const periodEndSec = dayStartSec(period.end, tz);
    const projectedBytes = estimateTotal(usedBytes, nowSec - periodStartSec, periodEndSec - periodStartSec);
    return {
      periodLabel: period.label,
      startDate: isoDateOf(period.start),
      endDate: isoDateOf(period.end),
      periodStartSec,
      periodEndSec,
      interfaces,
      rxBytes,
      txBytes,
      usedBytes,
      limitBytes: cap.limitBytes,
      projectedBytes,
      percentUsed: percentOf(usedBytes, cap.limitBytes),
      projectedPercent: projectedBytes === null ? null : percentOf(projectedBytes, cap.limitBytes),
    };
  }

  function describe(kind: AlertKind, threshold: number, s: CapStatus, cap: DataCap): string {
    const what = cap.interfaceName === null ? `the total (${s.interfaces.join(', ') || 'no interfaces'})` : cap.interfaceName;
    const dir = cap.direction === 'both' ? '' : ` (${cap.direction} only)`;
    const limit = formatBytes(s.limitBytes, deps.units);
    const used = formatBytes(s.usedBytes, deps.units);
    if (kind === 'projection') {
      return `Data cap: ${what}${dir} is projected to reach ${formatBytes(s.projectedBytes ?? 0n, deps.units)} by ${s.endDate}, over the ${limit} cap (${used} used so far, ${s.percentUsed}%)`;
    }
    return `Data cap: ${threshold}% of the ${limit} cap reached on ${what}${dir}: ${used} used in the billing month from ${s.startDate} (${s.percentUsed}%)`;
  }

  function fire(kind: AlertKind, threshold: number, s: CapStatus, cap: DataCap): AlertRecord | null {
    const message = describe(kind, threshold, s, cap);
    const result = insertAlert.run(
      kind,
      threshold,
      scopeOf(cap.interfaceName),
      s.periodStartSec,
      s.periodEndSec,
      s.limitBytes,
      s.usedBytes,
      s.projectedBytes,
      Math.floor(deps.now() / 1000),
      message,
      webhookUrl === null ? 'not_configured' : 'pending',
    );
    if (result.changes === 0) return null;
    const alert = toAlert(selectAlert.get(result.lastInsertRowid) as AlertRow);
    deps.logger.warn({ alert: { id: alert.id, kind, threshold_percent: threshold, used_bytes: String(s.usedBytes), limit_bytes: String(s.limitBytes) } }, message);
    if (webhookUrl !== null) deliver(alert.id);
    return alert;
  }

  async function evaluateNow(): Promise<AlertRecord[]> {
    const cap = getCap();
    if (cap.limitBytes === null || closed) return [];
    const s = await status();
    if (s === null) return [];
    const fired: AlertRecord[] = [];
    for (const t of [...cap.thresholdsPercent].sort((a, b) => a - b)) {
      if (s.usedBytes * 100n >= s.limitBytes * BigInt(t)) {
        const a = fire('threshold', t, s, cap);
        if (a !== null) fired.push(a);
      }
    }
    const elapsed = Math.floor(deps.now() / 1000) - s.periodStartSec;
    if (s.projectedBytes !== null && elapsed >= Math.max(PROJECTION_MIN_ELAPSED_SEC, ESTIMATE_MIN_ELAPSED_SEC) && s.projectedBytes > s.limitBytes && s.usedBytes < s.limitBytes) {
      const a = fire('projection', 100, s, cap);
      if (a !== null) fired.push(a);
    }
    return fired;
  }

  function evaluate(): Promise<AlertRecord[]> {
    // Serialized: two evaluations never interleave (the unique key would keep them honest anyway).
    const run = evaluating.then(evaluateNow);
    evaluating = run.catch(() => undefined);
    return run;
  }

  // ---- webhook ----

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      entry.timer.unref();
      sleepers.add(entry);
    });
  }

  async function attempt(alert: AlertRecord): Promise<{ ok: boolean; retry: boolean; error: string | null }> {
    const ac = new AbortController();
    aborts.add(ac);
    const t = setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const res = await doFetch(webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Net-Pulse', ...(webhook?.authorization ? { authorization: webhook.authorization } : {}) },
        body: stringifyWithBigInt({ event: `data_cap.${alert.kind}`, device: deps.device, alert: apiAlert(alert) }),
        signal: ac.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, retry: false, error: null };
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      return { ok: false, retry, error: `HTTP ${res.status}` };
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { ok: false, retry: true, error: `${err instanceof Error ? err.message : String(err)}${cause}` };
    } finally {
      clearTimeout(t);
      aborts.delete(ac);
    }
  }

  async function deliverLoop(id: number): Promise<void> {
    const row = selectAlert.get(id) as AlertRow | undefined;
    if (row === undefined) return;
    const alert = toAlert(row);
    let attempts = alert.webhook.attempts;
    while (!closed && attempts < maxAttempts) {
      if (attempts > 0) {
        await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1)));
        if (closed) return;
      }
      const r = await attempt(alert);
      if (closed && !r.ok) return; // Interrupted by shutdown: stays pending, resumed at the next start.
      attempts++;
      if (r.ok) {
        updateWebhook.run('delivered', attempts, null, id);
        deps.logger.info({ alert: id, attempts }, 'data-cap alert delivered to the webhook');
        return;
      }
      const final = !r.retry || attempts >= maxAttempts;
      updateWebhook.run(final ? 'failed' : 'pending', attempts, r.error, id);
      if (final) {
        deps.logger.warn({ alert: id, attempts, err: r.error }, 'data-cap alert could not be delivered to the webhook; giving up');
        return;
      }
      if (attempts === 1) deps.logger.warn({ alert: id, err: r.error }, 'data-cap webhook failed; retrying with backoff');
    }
  }

  function deliver(id: number): void {
    const p = deliverLoop(id)
      .catch((err: unknown) => deps.logger.warn({ alert: id, err: err instanceof Error ? err.message : String(err) }, 'data-cap webhook delivery failed'))
      .finally(() => deliveries.delete(p));
    deliveries.add(p);
  }

  return {
    getCap,
    setCap(input) {
      upsertCap.run(
        input.limitBytes,
        input.interfaceName,
        input.direction,
        JSON.stringify([...new Set(input.thresholdsPercent)].sort((a, b) => a - b)),
        input.monthStartDay,
        Math.floor(deps.now() / 1000),
      );
      return getCap();
    },
    status,
    evaluate,
    notifySamples() {
      if (closed || timer !== null) return;
      const wait = Math.max(0, lastEvalMs + minIntervalMs - deps.now());
      timer = setTimeout(() => {
        timer = null;
        lastEvalMs = deps.now();
        evaluate().catch((err: unknown) => deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'evaluating the data cap failed; will try after the next poll'));
      }, wait);
      timer.unref();
    },
    list(limit) {
      return (listAlerts.all(limit) as AlertRow[]).map(toAlert);
    },
    start() {
      const pending = pendingAlerts.all() as { id: number }[];
      if (webhookUrl === null) {
        for (const p of pending) updateWebhook.run('not_configured', 0, null, p.id);
        return;
      }
      for (const p of pending) deliver(p.id);
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.resolve();
      }
      sleepers.clear();
      for (const ac of aborts) ac.abort(new Error('shutting down'));
      await evaluating;
      await Promise.all([...deliveries]);
    },
  };
}
