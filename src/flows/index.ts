/**
 * The flows feature (issue #9), loaded with `await import()` only when NETPULSE_FLOWS=on: with it off none of
 * src/flows/ is loaded, so the server's memory and CPU do not change. startFlows probes what the machine
 * allows, starts the parts that can run, and reports the rest as off with the reason (GET /api/flows/status).
 * Part "hosts" (per-host totals) lives here; "flows" and "classify" are the other half of the issue.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { createTrafficService, type TrafficAnswer } from '../services/traffic-service.js';
import type { FlowsStatus } from '../shared/flows-status.js';
import type { Logger } from '../shared/logger.js';
import type { Db } from '../storage/db.js';
import { createRunsRepo } from '../storage/runs-repo.js';
import { SHAPE_CHECK_MS, startHostCounter, type HostCounter } from './host-counter.js';
import { openNftSetReader, type NftSetReader } from './nft-netlink.js';
import { createHostIdentity, type HostIdentity } from './host-identity.js';
import { createHostsRepo, type HostRecord, type HostTotals, type HostsRepo } from './hosts-repo.js';
import { buildTablePlan, type FlowsMode } from './nft-plan.js';
import { probeFlows } from './probe.js';

export interface FlowsDeps {
  config: Config;
  db: Db;
  logger: Logger;
  now: () => number;
  /** The collector's poll interval (s), read before every host poll. */
  pollIntervalSec: () => number;
  /** For tests: where /etc/hosts is, and a reverse DNS. */
  etcHostsPath?: string;
  reverse?: (address: string) => Promise<string[]>;
}

export interface HostView extends HostRecord {
  name: string | null;
}

export interface HostsApi {
  readonly mode: FlowsMode;
  list(windowHours: number, limit: number): (HostTotals & { name: string | null })[];
  get(id: string): HostView | null;
  traffic(id: string, windowHours: number, groupMinutes: number): TrafficAnswer;
  /** null or '' clears the user's name. false: no such host. */
  rename(id: string, name: string | null): boolean;
  /** Polls now (the API's tests and the stop path). */
  poll(): Promise<void>;
}

export interface FlowsFeature {
  status(): FlowsStatus;
  /** null when the hosts part is off. */
  hosts: HostsApi | null;
  close(): Promise<void>;
}

function readBootId(procRoot: string): string | null {
  try {
    return readFileSync(path.join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function nameOf(h: HostRecord): string | null {
  return h.userName ?? h.autoName;
}

const NAMING_EVERY_MS = 60_000;

export async function startFlows(deps: FlowsDeps): Promise<FlowsFeature> {
  const { config, logger } = deps;
  const probe = probeFlows(config.procRoot);
  const mode: FlowsMode = probe.forwarding ? 'router' : 'host';
  const capabilities = { net_admin: probe.netAdmin, nft: probe.runner?.kind ?? null, forwarding: probe.forwarding };
  const otherHalf = 'flow tracking has not started';
  const parts: FlowsStatus['parts'] = {
    hosts: { on: false, reason: '' },
    flows: { on: false, reason: otherHalf },
    classify: { on: false, reason: config.flows.classify ? otherHalf : 'NETPULSE_CLASSIFY is off' },
  };

  let counter: HostCounter | null = null;
  let repo: HostsRepo | null = null;
  let identity: HostIdentity | null = null;
  if (!probe.netAdmin) {
    parts.hosts.reason = 'Net-Pulse lacks CAP_NET_ADMIN, which nftables needs (compose: cap_add: [NET_ADMIN]; systemd: AmbientCapabilities=CAP_NET_ADMIN)';
  } else if (probe.runner === null) {
    parts.hosts.reason = probe.nftReason ?? 'nftables is not available';
  } else {
    repo = createHostsRepo(deps.db, { timezone: config.timezone });
    identity = createHostIdentity({ procRoot: config.procRoot, leasesPath: config.flows.leasesPath, etcHostsPath: deps.etcHostsPath, reverse: deps.reverse, now: deps.now });
    await identity.refreshNeighbours().catch(() => undefined);
    // Polls read the sets over netlink (~1 ms for 250 hosts, not libnftables' ~10 ms of JSON) when it opens.
    let setReader: NftSetReader | null = null;
    let readerNote = `; polls read the sets over netlink (full listing every ${SHAPE_CHECK_MS / 1000} s)`;
    try {
      setReader = openNftSetReader();
    } catch (err) {
      readerNote = `; netlink set reader unavailable (${(err as Error).message}): every poll lists the table`;
      logger.warn({ err: (err as Error).message }, 'hosts: no netlink set reader; every poll lists the table through nft');
    }
    try {
      counter = await startHostCounter({
        db: deps.db,
        repo,
        runs: createRunsRepo(deps.db, 'host_runs'),
        runner: probe.runner,
        plan: buildTablePlan(mode, config.flows.lanCidrs),
        identity,
        logger,
        now: deps.now,
        bootId: readBootId(config.procRoot),
        setReader,
      });
      parts.hosts = {
        on: true,
        reason: `${mode === 'router' ? 'LAN clients counted in the forward hook' : 'remote peers counted in the input/output hooks'} of nft table inet netpulse, read through ${probe.runner.kind === 'libnftables' ? 'libnftables' : 'the nft program (libnftables not loadable)'}${readerNote}`,
      };
    } catch (err) {
      setReader?.close();
      parts.hosts.reason = `creating the nft table failed: ${(err as Error).message}`;
      logger.warn({ err: (err as Error).message }, 'hosts: per-host totals are off');
    }
  }
  if (!parts.hosts.on) probe.runner?.close();

  const hostRuns = createRunsRepo(deps.db, 'host_runs');
  const trafficService =
    repo === null
      ? null
      : createTrafficService({ traffic: repo, runs: hostRuns, retention: config.retention, timezone: config.timezone, now: deps.now });

  // Names for hosts that have none yet: leases and /etc/hosts at once, reverse DNS in the background.
  let lastNaming = -Infinity;
  async function nameHosts(): Promise<void> {
    if (repo === null || identity === null || deps.now() - lastNaming < NAMING_EVERY_MS) return;
    lastNaming = deps.now();
    for (const h of repo.unnamed(mode, 64)) {
      const mac = repo.get(h.id)?.mac ?? null;
      const guess = (await identity.localName(h.addresses, mac)) ?? (await identity.reverseName(h.addresses));
      if (guess !== null) repo.setAutoName(h.id, guess.name, guess.source);
    }
  }

  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const schedule = () => {
    if (stopped || counter === null) return;
    timer = setTimeout(() => {
      void counter!
        .poll()
        .then(() => nameHosts())
        .catch(() => undefined)
        .finally(schedule);
    }, deps.pollIntervalSec() * 1000);
    timer.unref();
  };
  schedule();
  void nameHosts().catch(() => undefined);

  // The host rollups follow the interfaces' retention settings.
  const prune = () => {
    if (repo === null) return;
    const r = config.retention;
    const deleted = repo.prune(Math.floor(deps.now() / 1000), { raw: r.rawHours * 3600, minute: r.minuteDays * 86400, hour: r.hourDays * 86400, day: r.dayDays * 86400 });
    if (deleted > 0) logger.info({ deleted }, 'hosts: pruned rows past their retention');
  };
  prune();
  const pruneTimer = setInterval(() => {
    try {
      prune();
    } catch (err) {
      logger.warn({ err }, 'hosts: pruning failed; will try again');
    }
  }, 3_600_000);
  pruneTimer.unref();

  const hosts: HostsApi | null =
    counter === null || repo === null || trafficService === null
      ? null
      : {
          mode,
          list(windowHours, limit) {
            const nowSec = Math.floor(deps.now() / 1000);
            return repo!.totals(mode, nowSec - Math.round(windowHours * 3600), nowSec, limit).map((h) => ({ ...h, name: nameOf(h) }));
          },
          get(id) {
            const h = repo!.get(id);
            return h === null ? null : { ...h, name: nameOf(h) };
          },
          traffic(id, windowHours, groupMinutes) {
            return trafficService.query({ windowHours, groupMinutes, interfaces: [id] });
          },
          rename(id, name) {
            return repo!.setUserName(id, name === null || name.trim() === '' ? null : name.trim());
          },
          async poll() {
            await counter!.poll();
          },
        };

  return {
    status() {
      const s: FlowsStatus = { enabled: true, mode, parts: structuredClone(parts), capabilities };
      const stats = counter?.stats();
      if (stats?.lastError) s.parts.hosts.reason += ` (last poll failed: ${stats.lastError})`;
      if (stats?.reader === 'listing' && stats.readerReason?.startsWith('netlink set read failed')) s.parts.hosts.reason += ` (${stats.readerReason}; listing the table instead)`;
      return s;
    },
    hosts,
    async close() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      clearInterval(pruneTimer);
      await counter?.close();
      probe.runner?.close();
    },
  };
}
