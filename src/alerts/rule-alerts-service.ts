/**
 * Alert rules, the stateful half: rules stored in configuration (key alert_rules), evaluated on a timer (and
 * on demand), one rule_alerts row per crossing — fired when the rule begins to hold, cleared when it stops —
 * and each event sent to the configured channels in the background. The open row is the memory: evaluating
 * again, or after a restart, finds it and stays quiet until the rule clears.
 */
import type { CounterSource } from '../collector/counter-source.js';
import type { Logger } from '../shared/logger.js';
import type { ConfigRepo } from '../storage/config-repo.js';
import type { Db } from '../storage/db.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import type { TrafficRepo } from '../storage/traffic-repo.js';
import { formatBytes } from '../services/usage-service.js';
import { channelsConfigured, deliverEvent, type AlertEvent, type ChannelsConfig, type DeliveryOptions } from './delivery.js';
import { USUAL_TRAFFIC_LOOKBACK_SEC, judgeDown, judgeIdle, judgeRate, ruleKey, type AlertRule, type Verdict } from './rules.js';

export const ALERT_RULES_KEY = 'alert_rules';
export const RULE_EVALUATE_EVERY_MS = 30_000;

export type DeliveryStatus = 'not_configured' | 'pending' | 'delivered' | 'failed';

export interface RuleAlert {
  id: number;
  ruleId: string;
  ruleType: string;
  /** null: the monitored total. */
  interfaceName: string | null;
  firedAtSec: number;
  clearedAtSec: number | null;
  message: string;
  clearMessage: string | null;
  delivery: { status: DeliveryStatus; attempts: number; lastError: string | null };
}

export interface RuleAlertsService {
  rules(): AlertRule[];
  /** Stores the rules (checked by the caller); open alerts of rules that changed or went are cleared. */
  setRules(rules: AlertRule[]): AlertRule[];
  /** Evaluates every rule now; returns the events it produced. */
  evaluate(): Promise<AlertEvent[]>;
  list(limit: number): RuleAlert[];
  channels(): { webhook: boolean; ntfy: boolean; template: boolean };
  /** Sends again what a restart interrupted; from now on evaluates every 30 s while there are rules. */
  start(): void;
  close(): Promise<void>;
}

interface Row {
  id: number;
  rule_id: string;
  rule_type: string;
  interface_name: string;
  fired_at: number;
  cleared_at: number | null;
  message: string;
  clear_message: string | null;
  delivery_status: DeliveryStatus;
  delivery_attempts: number;
  delivery_error: string | null;
}

const toAlert = (r: Row): RuleAlert => ({
  id: r.id,
  ruleId: r.rule_id,
  ruleType: r.rule_type,
  interfaceName: r.interface_name === '' ? null : r.interface_name,
  firedAtSec: r.fired_at,
  clearedAtSec: r.cleared_at,
  message: r.message,
  clearMessage: r.clear_message,
  delivery: { status: r.delivery_status, attempts: r.delivery_attempts, lastError: r.delivery_error },
});

export function createRuleAlertsService(deps: {
  db: Db;
  configRepo: ConfigRepo;
  traffic: TrafficRepo;
  runs: RunsRepo;
  source: Pick<CounterSource, 'listInterfaces'>;
  monitoredList: () => string[];
  logger: Logger;
  now: () => number;
  device: { id: string; name: string };
  channels: ChannelsConfig;
  delivery?: DeliveryOptions;
  evaluateEveryMs?: number;
}): RuleAlertsService {
  const { db } = deps;
  const cols = 'id, rule_id, rule_type, interface_name, fired_at, cleared_at, message, clear_message, delivery_status, delivery_attempts, delivery_error';
  const openOf = db.prepare<[string, string], Row>(`SELECT ${cols} FROM rule_alerts WHERE rule_key = ? AND interface_name = ? AND cleared_at IS NULL`);
  const openAll = db.prepare<[], Row & { rule_key: string }>(`SELECT ${cols}, rule_key FROM rule_alerts WHERE cleared_at IS NULL`);
  const insert = db.prepare(
    `INSERT INTO rule_alerts (rule_id, rule_key, rule_type, interface_name, fired_at, message, delivery_status) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const clear = db.prepare(`UPDATE rule_alerts SET cleared_at = ?, clear_message = ?, delivery_status = ?, delivery_attempts = 0, delivery_error = NULL WHERE id = ? AND cleared_at IS NULL`);
  const setDelivery = db.prepare('UPDATE rule_alerts SET delivery_status = ?, delivery_attempts = ?, delivery_error = ? WHERE id = ?');
  const listStmt = db.prepare<[number], Row>(`SELECT ${cols} FROM rule_alerts ORDER BY MAX(fired_at, COALESCE(cleared_at, 0)) DESC, id DESC LIMIT ?`);
  const pending = db.prepare<[], Row>(`SELECT ${cols} FROM rule_alerts WHERE delivery_status = 'pending'`);
  const configured = channelsConfigured(deps.channels);
  const abort = new AbortController();
  const deliveries = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const rules = (): AlertRule[] => deps.configRepo.get<AlertRule[]>(ALERT_RULES_KEY) ?? [];

  function send(id: number, e: AlertEvent): void {
    if (!configured) return;
    const p = deliverEvent(deps.channels, e, { ...deps.delivery, signal: abort.signal })
      .then((r) => {
        if (abort.signal.aborted && r.error !== null) return; // stays pending for the next start
        setDelivery.run(r.error === null ? 'delivered' : 'failed', r.attempts, r.error, id);
        if (r.error !== null) deps.logger.warn({ alert: id, err: r.error }, 'alert delivery failed');
      })
      .catch((err: unknown) => deps.logger.warn({ alert: id, err: err instanceof Error ? err.message : String(err) }, 'alert delivery failed'))
      .finally(() => deliveries.delete(p));
    deliveries.add(p);
  }

  const minute = (sec: number) => Math.floor(sec / 60) * 60;

  function scopeOf(rule: AlertRule): string[] {
    return rule.interface === null ? deps.monitoredList() : [rule.interface];
  }

  function describe(rule: AlertRule, v: Verdict, firing: boolean): string {
    const where = rule.interface ?? `the total (${deps.monitoredList().join(', ')})`;
    switch (rule.type) {
      case 'rate_above': {
        const dir = rule.direction === 'total' ? 'rx + tx' : rule.direction;
        const limit = `${formatBytes(rule.bytes_per_sec, 'decimal')}/s`;
        return firing
          ? `${rule.id}: ${where} ran above ${limit} (${dir}) for ${rule.minutes} minutes; last minute ${v.value}`
          : `${rule.id}: ${where} is back at or below ${limit} (${dir}); last minute ${v.value}`;
      }
      case 'interface_down':
        return firing ? `${rule.id}: ${where} is ${v.value}` : `${rule.id}: ${where} is up again`;
      case 'no_traffic':
        return firing ? `${rule.id}: ${where} moved no traffic for ${rule.minutes} minutes, though it usually does` : `${rule.id}: ${where} has traffic again`;
    }
  }

  async function judge(rule: AlertRule, nowSec: number, metas: Map<string, { isUp: boolean }> | null): Promise<Verdict> {
    const m0 = minute(nowSec);
    if (rule.type === 'interface_down') {
      const meta = metas?.get(rule.interface);
      return judgeDown({ present: meta !== undefined, isUp: meta?.isUp ?? false });
    }
    const names = scopeOf(rule);
    const minutes = rule.minutes;
    const from = m0 - minutes * 60;
    const byMinute = new Map<number, bigint>();
    for (const b of deps.traffic.sumByBucket('traffic_1m', names, from, m0)) {
      const rx = BigInt(b.rx_bytes);
      const tx = BigInt(b.tx_bytes);
      const bytes = rule.type === 'rate_above' ? (rule.direction === 'rx' ? rx : rule.direction === 'tx' ? tx : rx + tx) : rx + tx;
      byMinute.set(Number(b.bucket_start), bytes);
    }
    const series: bigint[] = [];
    for (let t = from; t < m0; t += 60) series.push(byMinute.get(t) ?? 0n);
    if (rule.type === 'rate_above') return judgeRate(rule, { minuteBytes: series });
    let covered = 0;
    for (const r of deps.runs.overlapping(from, m0)) covered += Math.max(0, Math.min(m0, r.lastPollAt) - Math.max(from, r.startedAt));
    const usual = deps.traffic.sumByInterface('traffic_1h', names, from - USUAL_TRAFFIC_LOOKBACK_SEC, from)[0];
    return judgeIdle({
      windowBytes: series.reduce((a, b) => a + b, 0n),
      lastMinuteBytes: series.at(-1) ?? 0n,
      // A poll interval's worth of slack at the edges: runs end at their last poll.
      covered: covered >= minutes * 60 - 60,
      usualBytes: usual === undefined ? 0n : BigInt(usual.rx_bytes) + BigInt(usual.tx_bytes),
    });
  }

  async function evaluateNow(): Promise<AlertEvent[]> {
    const nowSec = Math.floor(deps.now() / 1000);
    const list = rules();
    const metas = list.some((r) => r.type === 'interface_down') ? new Map((await deps.source.listInterfaces()).map((m) => [m.name, { isUp: m.isUp }])) : null;
    const events: AlertEvent[] = [];
    for (const rule of list) {
      const v = await judge(rule, nowSec, metas);
      const key = ruleKey(rule);
      const iface = rule.interface ?? '';
      const open = openOf.get(key, iface);
      const base = { ruleId: rule.id, ruleType: rule.type, interfaceName: rule.interface, value: v.value, atSec: nowSec, device: deps.device };
      if (v.state === 'firing' && open === undefined) {
        const message = describe(rule, v, true);
        const r = insert.run(rule.id, key, rule.type, iface, nowSec, message, configured ? 'pending' : 'not_configured');
        if (r.changes === 0) continue;
        deps.logger.warn({ rule: rule.id, interface: rule.interface }, message);
        const e: AlertEvent = { ...base, event: 'fired', message };
        events.push(e);
        send(Number(r.lastInsertRowid), e);
      } else if (v.state === 'clear' && open !== undefined) {
        const message = describe(rule, v, false);
        if (clear.run(nowSec, message, configured ? 'pending' : 'not_configured', open.id).changes === 0) continue;
        deps.logger.info({ rule: rule.id, interface: rule.interface }, message);
        const e: AlertEvent = { ...base, event: 'cleared', message };
        events.push(e);
        send(open.id, e);
      }
    }
    return events;
  }

  function evaluate(): Promise<AlertEvent[]> {
    const p = running.then(evaluateNow, evaluateNow);
    running = p.catch(() => undefined);
    return p;
  }

  // The timer runs only while there are rules: without any, a server that does not poll would still wake every
  // 30 s for nothing (issue #13). Only setRules changes them.
  let started = false;
  function schedule(current?: readonly AlertRule[]): void {
    const wanted = started && (current ?? rules()).length > 0;
    if (wanted && timer === null) {
      timer = setInterval(() => {
        evaluate().catch((err: unknown) => deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'evaluating the alert rules failed; will try again'));
      }, deps.evaluateEveryMs ?? RULE_EVALUATE_EVERY_MS);
      timer.unref();
    } else if (!wanted && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  return {
    rules,
    setRules(next) {
      const keys = new Set(next.map(ruleKey));
      const nowSec = Math.floor(deps.now() / 1000);
      db.transaction(() => {
        deps.configRepo.set(ALERT_RULES_KEY, next);
        // An open alert of a rule that changed or was removed ends here (without a delivery: the user did it).
        for (const o of openAll.all()) if (!keys.has(o.rule_key)) clear.run(nowSec, `${o.rule_id}: the rule was changed or removed`, 'not_configured', o.id);
      })();
      const current = rules();
      schedule(current);
      return current;
    },
    evaluate,
    list(limit) {
      return listStmt.all(limit).map(toAlert);
    },
    channels: () => ({ webhook: deps.channels.webhookUrl !== null, ntfy: deps.channels.ntfyUrl !== null, template: deps.channels.template !== null }),
    start() {
      // Events a restart interrupted are sent again.
      for (const r of pending.all()) {
        const a = toAlert(r);
        const cleared = a.clearedAtSec !== null;
        send(a.id, { event: cleared ? 'cleared' : 'fired', ruleId: a.ruleId, ruleType: a.ruleType, interfaceName: a.interfaceName, message: cleared ? a.clearMessage! : a.message, value: '', atSec: a.clearedAtSec ?? a.firedAtSec, device: deps.device });
      }
      started = true;
      schedule();
    },
    async close() {
      started = false;
      schedule();
      abort.abort();
      await running;
      await Promise.all([...deliveries]);
    },
  };
}
