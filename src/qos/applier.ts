/**
 * The one seam of QoS that touches the kernel (issue #10): probing what the kernel allows, finding what
 * Net-Pulse already owns, running the planner's scripts (`ip -batch -`, `tc -batch -`, `nft -f -`), and
 * reading per-class counters back over rtnetlink (the `netlink` package: one dump, no spawned tc).
 *
 * Probing never changes anything real: it works on a throwaway ifb (or dummy) device that it creates,
 * tries each qdisc/action on it, and deletes it; nftables is asked with `nft -c` (check only).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { CAPABILITY_NAMES, QOS_MAJOR, QOS_TABLE, type Capability, type QosCapabilities, type QosPlan, type RemovePlan } from './planner.js';

export class ToolError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command} failed: ${stderr.trim().split('\n').slice(0, 4).join('; ') || 'no output'}`);
    this.name = 'ToolError';
  }
}

/** Runs a tool with optional stdin; resolves with stdout, rejects with ToolError. */
export type ToolRunner = (tool: 'ip' | 'tc' | 'nft', args: string[], stdin?: string) => Promise<string>;

const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function toolPath(tool: string): string {
  for (const dir of TOOL_DIRS) {
    const p = `${dir}/${tool}`;
    if (fs.existsSync(p)) return p;
  }
  return tool;
}

export const spawnTool: ToolRunner = (tool, args, stdin) =>
  new Promise((resolve, reject) => {
    const child = execFile(toolPath(tool), args, { timeout: 15_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new ToolError(`${tool} ${args.join(' ')}`, stderr || err.message));
      else resolve(stdout);
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });

export interface RootQdisc {
  kind: string;
  /** "0:" for the kernel's default, "4e50:" for Net-Pulse's. */
  handle: string;
}

export interface InterfaceQdiscs {
  root: RootQdisc | null;
  ingress: boolean;
}

export interface ClassCounters {
  classid: string;
  bytes: bigint;
  packets: number;
  drops: number;
  overlimits: number;
  qlen: number;
  backlogBytes: number;
}

export interface QosApplier {
  probe(): Promise<QosCapabilities>;
  qdiscs(dev: string): Promise<InterfaceQdiscs>;
  linkExists(dev: string): Promise<boolean>;
  tableExists(): Promise<boolean>;
  run(plan: Pick<QosPlan, 'ipBatch' | 'tcBatch' | 'nftScript'> | RemovePlan): Promise<void>;
  /** Net-Pulse's HTB classes on a device (4e50:NN, not the root 4e50:1); empty when there are none. */
  classCounters(dev: string): Promise<ClassCounters[]>;
  close(): void;
}

function firstLine(err: unknown): string {
  const text = err instanceof ToolError ? err.stderr : err instanceof Error ? err.message : String(err);
  return text.trim().split('\n')[0] || 'failed';
}

/** Parses struct tc_stats (TCA_STATS): u64 bytes, u32 packets, drops, overlimits, bps, pps, qlen, backlog. */
export function parseTcStats(buf: Buffer): Omit<ClassCounters, 'classid'> {
  return {
    bytes: buf.readBigUInt64LE(0),
    packets: buf.readUInt32LE(8),
    drops: buf.readUInt32LE(12),
    overlimits: buf.readUInt32LE(16),
    qlen: buf.readUInt32LE(28),
    backlogBytes: buf.readUInt32LE(32),
  };
}

export function formatHandle(h: number): string {
  return `${(h >>> 16).toString(16)}:${(h & 0xffff).toString(16)}`;
}

type RtSocket = import('netlink').RtNetlinkSocket;

export function createQosApplier(options: { run?: ToolRunner; probeName?: string } = {}): QosApplier {
  const run = options.run ?? spawnTool;
  let rt: RtSocket | null = null;
  const ifindexCache = new Map<string, number>();

  async function socket(): Promise<RtSocket> {
    if (rt === null) {
      const { createRtNetlink } = await import('netlink');
      rt = createRtNetlink();
    }
    return rt;
  }

  async function ifindex(dev: string): Promise<number | null> {
    const cached = ifindexCache.get(dev);
    if (cached !== undefined) return cached;
    const links = await (await socket()).getLinks();
    for (const l of links) if (l.attrs.ifname !== undefined && l.data.index !== undefined) ifindexCache.set(l.attrs.ifname, l.data.index);
    return ifindexCache.get(dev) ?? null;
  }

  const applier: QosApplier = {
    async probe() {
      const caps = Object.fromEntries(CAPABILITY_NAMES.map((n) => [n, { available: false, reason: 'not probed' }])) as QosCapabilities;
      const ok = (): Capability => ({ available: true, reason: null });
      const no = (reason: string): Capability => ({ available: false, reason });
      const dev = options.probeName ?? `npprobe${process.pid}`.slice(0, 15);
      let created: 'ifb' | 'dummy' | null = null;
      try {
        await run('ip', ['link', 'add', dev, 'type', 'ifb']);
        created = 'ifb';
        caps.ifb = ok();
      } catch (err) {
        caps.ifb = no(`cannot create an ifb device: ${firstLine(err)}`);
        try {
          await run('ip', ['link', 'add', dev, 'type', 'dummy']);
          created = 'dummy';
        } catch (err2) {
          const why = `cannot create a throwaway device to probe on: ${firstLine(err2)}`;
          for (const n of CAPABILITY_NAMES) if (n !== 'dscp') caps[n] = no(why);
        }
      }
      try {
        if (created !== null) {
          const tryTc = async (args: string[]): Promise<Capability> => {
            try {
              await run('tc', args);
              return ok();
            } catch (err) {
              return no(firstLine(err));
            }
          };
          caps.htb = await tryTc(['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb']);
          caps.fq_codel = await tryTc(['qdisc', 'replace', 'dev', dev, 'root', 'fq_codel']);
          caps.cake = await tryTc(['qdisc', 'replace', 'dev', dev, 'root', 'cake']);
          const ingress = await tryTc(['qdisc', 'add', 'dev', dev, 'handle', 'ffff:', 'ingress']);
          const filter = (prio: string, action: string[]) => tryTc(['filter', 'add', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'prio', prio, 'u32', 'match', 'u32', '0', '0', ...action]);
          if (!ingress.available) {
            for (const n of ['police', 'connmark'] as const) caps[n] = no(`no ingress qdisc: ${ingress.reason}`);
            if (caps.ifb.available) caps.ifb = no(`no ingress qdisc to redirect from: ${ingress.reason}`);
          } else {
            caps.police = await filter('1', ['action', 'police', 'rate', '1mbit', 'burst', '10k', 'drop']);
            caps.connmark = await filter('2', ['action', 'connmark']);
            if (caps.ifb.available) {
              const mirred = await filter('3', ['action', 'mirred', 'egress', 'redirect', 'dev', dev]);
              if (!mirred.available) caps.ifb = no(`the mirred action is missing: ${mirred.reason}`);
            }
          }
        }
        try {
          await run('nft', ['-c', '-f', '-'], `table inet ${QOS_TABLE}_probe {\n  chain c {\n    type filter hook postrouting priority 0; policy accept;\n    ip dscp set 46\n    meta priority set 4e50:10\n  }\n}\n`);
          caps.dscp = ok();
        } catch (err) {
          caps.dscp = no(err instanceof ToolError && /ENOENT|not found/i.test(err.stderr) ? 'nft (nftables) is not installed' : firstLine(err));
        }
      } finally {
        if (created !== null) await run('ip', ['link', 'del', dev]).catch(() => undefined);
      }
      return caps;
    },

    async qdiscs(dev) {
      const list = JSON.parse(await run('tc', ['-j', 'qdisc', 'show', 'dev', dev])) as { kind: string; handle: string; root?: boolean; parent?: string }[];
      const root = list.find((qd) => qd.root === true) ?? null;
      return { root: root === null ? null : { kind: root.kind, handle: root.handle }, ingress: list.some((qd) => qd.kind === 'ingress' || qd.kind === 'clsact') };
    },

    async linkExists(dev) {
      try {
        await run('ip', ['link', 'show', 'dev', dev]);
        return true;
      } catch {
        return false;
      }
    },

    async tableExists() {
      try {
        await run('nft', ['list', 'table', 'inet', QOS_TABLE]);
        return true;
      } catch {
        return false;
      }
    },

    async run(plan) {
      if (plan.ipBatch !== '') await run('ip', ['-batch', '-'], plan.ipBatch);
      if (plan.tcBatch !== '') await run('tc', ['-batch', '-'], plan.tcBatch);
      if (plan.nftScript !== '') await run('nft', ['-f', '-'], plan.nftScript);
      ifindexCache.clear();
    },

    async classCounters(dev) {
      let index = await ifindex(dev);
      if (index === null) {
        ifindexCache.clear();
        index = await ifindex(dev);
        if (index === null) return [];
      }
      const msgs = await (await socket()).getTrafficClasses({ ifindex: index });
      const out: ClassCounters[] = [];
      for (const m of msgs) {
        const handle = m.data.handle ?? 0;
        if (m.data.ifindex !== index || handle >>> 16 !== QOS_MAJOR || (handle & 0xffff) === 1 || m.attrs.stats === undefined) continue;
        out.push({ classid: formatHandle(handle), ...parseTcStats(m.attrs.stats) });
      }
      return out.sort((a, b) => a.classid.localeCompare(b.classid));
    },

    close() {
      rt?.socket.close();
      rt = null;
    },
  };
  return applier;
}

