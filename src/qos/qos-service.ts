/**
 * QoS as a service (issue #10): the stored config, safe apply (rollback after N s unless confirmed), remove,
 * repair-or-remove at start, remove on stop (unless the user asked to keep a confirmed tree), the fallback
 * throttle driven by the data cap's projection, and per-class live counters.
 *
 * Loaded only when NETPULSE_QOS=on (the server imports this file on demand). The applied state is kept in
 * the configuration table *before* anything is run, so a crash mid-apply is found and undone at the next start.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ConfigRepo } from '../storage/config-repo.js';
import { createQosApplier, type ClassCounters, type InterfaceQdiscs, type QosApplier, type RootQdisc } from './applier.js';
import { ifbName, planApply, planRemove, type PlannedClass, type QosCapabilities, type QosPlan, type QosPresent } from './planner.js';
import { QosConfigError, validateQosConfig, type QosConfig } from './qos-config.js';

export const QOS_CONFIG_KEY = 'qos_config';
export const QOS_APPLIED_KEY = 'qos_applied';
export const DEFAULT_CONFIRM_WITHIN_SEC = 60;
export const MIN_CONFIRM_WITHIN_SEC = 5;
export const MAX_CONFIRM_WITHIN_SEC = 3600;
const THROTTLE_CHECK_MS = 60_000;

/** What is on the machine, as stored before and after each apply. */
export interface QosAppliedState {
  phase: 'applying' | 'applied';
  config: QosConfig;
  interface: string;
  ifb: string | null;
  /** Net-Pulse added the interface's ingress qdisc. */
  ingress: boolean;
  /** The interface's root qdisc before Net-Pulse's first apply (the kernel's default comes back on remove). */
  root_before: RootQdisc | null;
  applied_at_ms: number;
  /** Rollback time; null once confirmed. */
  deadline_ms: number | null;
  throttle_active: boolean;
  /** The billing month the throttle started in: it lasts until that month ends. */
  throttle_period: string | null;
  notes: string[];
  classes: PlannedClass[];
  leaf: QosPlan['leaf'];
  /** The confirmed config this apply replaced: a rollback puts it back (else it removes everything). */
  previous_confirmed: QosConfig | null;
}

export interface ThrottleSignal {
  /** The current billing month's label and whether its projection passes the cap. */
  (): Promise<{ period: string; overCap: boolean } | null>;
}

export interface ClassLive {
  id: string;
  name: string;
  classid: string;
  upload: LiveCounters | null;
  download: LiveCounters | null;
}

export interface LiveCounters {
  bytes: bigint;
  packets: number;
  drops: number;
  overlimits: number;
  backlog_bytes: number;
  qlen: number;
  /** Since the previous read; null on the first. */
  rate_bits_per_sec: number | null;
}

export interface DryRun {
  commands: { command: string; stdin: string }[];
  notes: string[];
}

export class QosError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'QosError';
  }
}

export interface QosService {
  capabilities(): QosCapabilities;
  config(): QosConfig | null;
  setConfig(config: QosConfig): void;
  applied(): QosAppliedState | null;
  apply(options: { confirmWithinSec: number; dryRun: boolean }): Promise<QosAppliedState | DryRun>;
  confirm(): QosAppliedState;
  remove(): Promise<void>;
  liveClasses(): Promise<ClassLive[]>;
  /** Re-evaluates the fallback throttle now (also runs every minute). */
  checkThrottle(): Promise<void>;
  close(): Promise<void>;
}

export interface QosServiceDeps {
  configRepo: ConfigRepo;
  logger: FastifyBaseLogger;
  now: () => number;
  applier?: QosApplier;
  /** The link speed of an interface in Mbit/s, if known (rates must stay within it). */
  linkSpeedMbps: (name: string) => number | null;
  throttleSignal: ThrottleSignal;
}

/** Probes the kernel, then repairs (confirmed) or removes (unconfirmed / half-applied) what a previous run left. */
export async function createQosService(deps: QosServiceDeps): Promise<QosService> {
  const applier = deps.applier ?? createQosApplier();
  const { configRepo, logger, now } = deps;
  const caps = await applier.probe();
  let rollbackTimer: NodeJS.Timeout | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const previous = new Map<string, { bytes: bigint; atMs: number }>();

  /** One kernel change at a time. */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  }

  const readState = () => configRepo.get<QosAppliedState>(QOS_APPLIED_KEY) ?? null;
  const writeState = (s: QosAppliedState | null) => (s === null ? configRepo.delete(QOS_APPLIED_KEY) : configRepo.set(QOS_APPLIED_KEY, s));

  async function present(dev: string, state: QosAppliedState | null): Promise<{ present: QosPresent & { tableExists: boolean }; qdiscs: InterfaceQdiscs | null }> {
    const qdiscs = (await applier.linkExists(dev)) ? await applier.qdiscs(dev) : null;
    return {
      qdiscs,
      present: {
        rootOurs: qdiscs?.root?.handle === '4e50:',
        ingressOurs: qdiscs?.ingress === true && state !== null && state.interface === dev && state.ingress,
        ifbExists: await applier.linkExists(ifbName(dev)),
        tableExists: await applier.tableExists(),
      },
    };
  }

  async function removeNow(reason: string): Promise<void> {
    clearRollback();
    const state = readState();
    const devs = new Set<string>();
    if (state !== null) devs.add(state.interface);
    const cfg = configRepo.get<QosConfig>(QOS_CONFIG_KEY);
    if (cfg !== undefined) devs.add(cfg.interface);
    for (const dev of devs) {
      const { present: p } = await present(dev, state);
      await applier.run(planRemove(dev, p));
    }
    if (devs.size === 0 && (await applier.tableExists())) await applier.run(planRemove('-', { rootOurs: false, ingressOurs: false, ifbExists: false, tableExists: true }));
    writeState(null);
    previous.clear();
    if (state !== null) logger.info({ interface: state.interface, reason }, 'QoS removed');
  }

  function clearRollback() {
    if (rollbackTimer !== null) clearTimeout(rollbackTimer);
    rollbackTimer = null;
  }

  function armRollback(state: QosAppliedState) {
    clearRollback();
    if (state.deadline_ms === null) return;
    rollbackTimer = setTimeout(
      () => {
        rollbackTimer = null;
        void serial(async () => {
          const s = readState();
          if (s === null || s.deadline_ms === null || s.applied_at_ms !== state.applied_at_ms) return;
          if (s.previous_confirmed !== null) {
            logger.warn({ interface: s.interface }, 'QoS apply not confirmed: rolling back to the previous confirmed tree');
            await applyNow(s.previous_confirmed, null, false).catch(() => removeNow('rollback to the previous tree failed'));
          } else {
            await removeNow('not confirmed before the rollback deadline');
          }
        }).catch((err: unknown) => logger.error({ err }, 'QoS rollback failed'));
      },
      Math.max(0, state.deadline_ms - now()),
    );
    rollbackTimer.unref();
  }

  async function throttleState(config: QosConfig, state: QosAppliedState | null): Promise<{ active: boolean; period: string | null }> {
    if (!config.fallback_throttle.enabled) return { active: false, period: null };
    const signal = await deps.throttleSignal().catch(() => null);
    if (signal === null) return { active: false, period: null };
    if (state?.throttle_active && state.throttle_period === signal.period) return { active: true, period: signal.period };
    return signal.overCap ? { active: true, period: signal.period } : { active: false, period: null };
  }

  /** Plans and runs; on any failure removes everything Net-Pulse owns, so nothing half-applied stays. */
  async function applyNow(config: QosConfig, deadlineMs: number | null, dryRun: boolean): Promise<QosAppliedState | DryRun> {
    let before = readState();
    // A different interface than last time: take the old one back first.
    if (!dryRun && before !== null && before.interface !== config.interface) {
      await removeNow('interface changed');
      before = null;
    }
    const { present: p, qdiscs } = await present(config.interface, before);
    if (qdiscs === null) throw new QosError(404, 'UNKNOWN_INTERFACE', `no interface "${config.interface}" on this machine`);
    if (!caps.htb.available) throw new QosError(409, 'QOS_UNSUPPORTED', `the kernel cannot shape here: htb ${caps.htb.reason}`);
    if (qdiscs.root !== null && !p.rootOurs && qdiscs.root.handle !== '0:') {
      throw new QosError(409, 'QOS_INTERFACE_BUSY', `${config.interface} already has a ${qdiscs.root.kind} root qdisc (${qdiscs.root.handle}) that Net-Pulse did not add; remove it first`);
    }
    if (config.download_kbit !== null && qdiscs.ingress && !p.ingressOurs) {
      throw new QosError(409, 'QOS_INTERFACE_BUSY', `${config.interface} already has an ingress qdisc that Net-Pulse did not add; remove it or turn download shaping off`);
    }
    const throttle = await throttleState(config, before);
    const plan = planApply(config, caps, p, { throttleActive: throttle.active });
    if (dryRun) {
      const commands = [
        { command: 'ip -batch -', stdin: plan.ipBatch },
        { command: 'tc -batch -', stdin: plan.tcBatch },
        { command: 'nft -f -', stdin: plan.nftScript },
      ].filter((c) => c.stdin !== '');
      return { commands, notes: plan.notes };
    }
    const kept = before !== null && before.interface === config.interface ? before.root_before : (qdiscs.root ?? null);
    const state: QosAppliedState = {
      phase: 'applying',
      config,
      interface: config.interface,
      ifb: plan.ifb,
      ingress: plan.ifb !== null || p.ingressOurs,
      root_before: kept,
      applied_at_ms: now(),
      deadline_ms: deadlineMs,
      throttle_active: throttle.active,
      throttle_period: throttle.period,
      notes: plan.notes,
      classes: plan.classes,
      leaf: plan.leaf,
      previous_confirmed: deadlineMs === null ? null : before !== null && before.phase === 'applied' && before.deadline_ms === null ? before.config : (before?.previous_confirmed ?? null),
    };
    writeState(state);
    try {
      await applier.run(plan);
    } catch (err) {
      logger.error({ err }, 'QoS apply failed; removing what was applied');
      await removeNow('apply failed').catch((e: unknown) => logger.error({ err: e }, 'QoS clean-up after a failed apply failed'));
      throw new QosError(409, 'QOS_APPLY_FAILED', err instanceof Error ? err.message : String(err));
    }
    const done: QosAppliedState = { ...state, phase: 'applied', ingress: plan.ifb !== null };
    writeState(done);
    previous.clear();
    armRollback(done);
    logger.info({ interface: config.interface, deadline: done.deadline_ms, leaf: plan.leaf, throttle: throttle.active }, 'QoS applied');
    return done;
  }

  // Start: what did the last run leave?
  const left = readState();
  if (left !== null) {
    try {
      if (left.phase === 'applying' || left.deadline_ms !== null) {
        await removeNow(left.phase === 'applying' ? 'a previous run stopped mid-apply' : 'a previous run stopped before the apply was confirmed');
      } else {
        await applyNow(left.config, null, false);
        logger.info({ interface: left.interface }, 'QoS: the confirmed tree of the previous run was re-applied (repaired)');
      }
    } catch (err) {
      logger.error({ err }, 'QoS: could not repair the previous run\'s tree; removing it');
      await removeNow('repair failed').catch(() => undefined);
    }
  }

  const throttleTimer = setInterval(() => {
    void service.checkThrottle().catch((err: unknown) => logger.warn({ err }, 'QoS fallback throttle check failed'));
  }, THROTTLE_CHECK_MS);
  throttleTimer.unref();

  async function countersOf(dev: string): Promise<Map<string, ClassCounters>> {
    try {
      return new Map((await applier.classCounters(dev)).map((c) => [c.classid, c]));
    } catch {
      return new Map();
    }
  }

  function live(dev: string, c: ClassCounters | undefined, atMs: number): LiveCounters | null {
    if (c === undefined) return null;
    const key = `${dev}/${c.classid}`;
    const prev = previous.get(key);
    previous.set(key, { bytes: c.bytes, atMs });
    const rate = prev !== undefined && atMs > prev.atMs && c.bytes >= prev.bytes ? Math.round((Number(c.bytes - prev.bytes) * 8 * 1000) / (atMs - prev.atMs)) : null;
    return { bytes: c.bytes, packets: c.packets, drops: c.drops, overlimits: c.overlimits, backlog_bytes: c.backlogBytes, qlen: c.qlen, rate_bits_per_sec: rate };
  }

  const service: QosService = {
    capabilities: () => caps,
    config: () => configRepo.get<QosConfig>(QOS_CONFIG_KEY) ?? null,
    setConfig(config) {
      try {
        validateQosConfig(config, deps.linkSpeedMbps(config.interface));
      } catch (err) {
        if (err instanceof QosConfigError) throw new QosError(400, err.code, err.message);
        throw err;
      }
      configRepo.set(QOS_CONFIG_KEY, config);
    },
    applied: readState,
    apply({ confirmWithinSec, dryRun }) {
      const config = service.config();
      if (config === null) return Promise.reject(new QosError(409, 'QOS_NOT_CONFIGURED', 'store a config first: PUT /api/qos'));
      return serial(() => applyNow(config, now() + confirmWithinSec * 1000, dryRun));
    },
    confirm() {
      const s = readState();
      if (s === null || s.phase !== 'applied') throw new QosError(409, 'QOS_NOT_APPLIED', 'nothing is applied to confirm');
      if (s.deadline_ms === null) return s;
      clearRollback();
      const confirmed = { ...s, deadline_ms: null };
      writeState(confirmed);
      return confirmed;
    },
    remove: () => serial(() => removeNow('removed by the user')),
    async liveClasses() {
      const s = readState();
      if (s === null || s.phase !== 'applied') return [];
      const atMs = now();
      const up = await countersOf(s.interface);
      const down = s.ifb === null ? new Map<string, ClassCounters>() : await countersOf(s.ifb);
      return s.classes.map((c) => ({ id: c.id, name: c.name, classid: c.classid, upload: live(s.interface, up.get(c.classid), atMs), download: s.ifb === null ? null : live(s.ifb, down.get(c.classid), atMs) }));
    },
    checkThrottle: () =>
      serial(async () => {
        const s = readState();
        if (s === null || s.phase !== 'applied' || s.deadline_ms !== null) return;
        const t = await throttleState(s.config, s);
        if (t.active !== s.throttle_active) {
          logger.info({ active: t.active, period: t.period }, 'QoS fallback throttle changes');
          await applyNow(s.config, null, false);
        }
      }),
    async close() {
      clearInterval(throttleTimer);
      clearRollback();
      await serial(async () => {
        const s = readState();
        if (s !== null && (s.deadline_ms !== null || !s.config.keep_on_stop)) await removeNow('Net-Pulse stops');
        else if (s !== null) logger.info({ interface: s.interface }, 'QoS stays applied after stop (keep_on_stop)');
      }).catch((err: unknown) => logger.error({ err }, 'QoS remove on stop failed'));
      applier.close();
    },
  };
  return service;
}
