import { closeSync, constants, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CounterField } from '../../src/collector/counter-source.js';

/**
 * Writes a temporary /proc + /sys tree from a compact description, laid out like the kernel's:
 * /sys/class/net/<if> is a symlink into /sys/devices/virtual/net/<if> (virtual) or a fake PCI device
 * (physical). The tree can then be changed the way a live system changes: new counters, an interface
 * removed or re-created with a new ifindex, an interface gone from /sys while /proc/net/dev still lists it.
 *
 *   const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, eth0: { counters: { rxBytes: 10n } } } });
 *   t.after(() => tree.cleanup());
 *   const source = createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot });
 */

/** The 16 columns of /proc/net/dev; the 8 Net-Pulse keeps plus the 8 it ignores. */
export type NetDevColumn =
  | CounterField
  | 'rxFifo'
  | 'rxFrame'
  | 'rxCompressed'
  | 'rxMulticast'
  | 'txFifo'
  | 'txCollisions'
  | 'txCarrier'
  | 'txCompressed';

export type CounterValues = Partial<Record<NetDevColumn, bigint | number>>;

export interface FixtureInterface {
  /** Counters in /proc/net/dev; missing columns are 0. */
  counters?: CounterValues;
  /** Defaults to the position in the spec + 1. */
  ifindex?: number;
  /** Default 'up'. */
  operstate?: string;
  /** ARPHRD link type; default 1 (ethernet). */
  type?: number;
  /** Default 1500. */
  mtu?: number;
  /** Mbit/s; null writes no speed file (a read then fails, as sysfs answers EINVAL for virtual links). */
  speed?: number | null;
  /** MAC; default derived from the ifindex. '' writes an empty address, as tun and WireGuard have. */
  address?: string;
  /** dev->flags; default 0x1003 (UP|BROADCAST|MULTICAST). */
  flags?: number;
  /** 1 or 0; null writes no carrier file. Default 1 when operstate is up or unknown, else 0. */
  carrier?: 0 | 1 | null;
  /** Lives under /sys/devices/virtual/net. */
  virtual?: boolean;
  /** Has wireless/ and phy80211. */
  wireless?: boolean;
  /** Has bridge/. */
  bridge?: boolean;
  /** A tun/tap device: has tun_flags. */
  tun?: boolean;
  /** false: listed in /proc/net/dev but absent from /sys (vanished between the two reads). */
  inSys?: boolean;
}

export interface FixtureTreeSpec {
  interfaces: Record<string, FixtureInterface>;
  /** Interfaces with an IPv4 default route. */
  defaultRouteV4?: string[];
  /** Interfaces with an IPv6 default route. The kernel's unreachable default on lo is always written. */
  defaultRouteV6?: string[];
  /** null: no boot_id file. */
  bootId?: string | null;
  /** The btime line of /proc/stat. */
  btimeSec?: number;
}

export interface FixtureTree {
  root: string;
  procRoot: string;
  sysRoot: string;
  /** Replaces an interface's counters (missing columns become 0) and rewrites /proc/net/dev. */
  setCounters(name: string, counters: CounterValues): void;
  /** Writes /proc/net/dev verbatim (malformed content, old kernel layouts). */
  writeNetDev(text: string): void;
  /** Adds an interface to /proc/net/dev and /sys (after the existing ones). */
  addInterface(name: string, spec?: FixtureInterface): void;
  /** Removes an interface from /proc/net/dev and /sys. */
  removeInterface(name: string): void;
  /** Removes an interface from /sys only: /proc/net/dev still lists it. */
  removeFromSys(name: string): void;
  /** Changes the ifindex in /sys (pair with setCounters to zero for a re-created interface). */
  setIfindex(name: string, ifindex: number): void;
  /** Rewrites /proc/net/route and /proc/net/ipv6_route. */
  setDefaultRoutes(v4: string[], v6: string[]): void;
  cleanup(): void;
}

const NET_DEV_HEADER =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

const NET_DEV_COLUMNS: [NetDevColumn, number][] = [
  ['rxBytes', 7],
  ['rxPackets', 7],
  ['rxErrors', 4],
  ['rxDrops', 4],
  ['rxFifo', 4],
  ['rxFrame', 5],
  ['rxCompressed', 10],
  ['rxMulticast', 9],
  ['txBytes', 8],
  ['txPackets', 7],
  ['txErrors', 4],
  ['txDrops', 4],
  ['txFifo', 4],
  ['txCollisions', 5],
  ['txCarrier', 7],
  ['txCompressed', 10],
];

/** /proc/net/dev as the kernel prints it: "%6s: %7llu %7llu %4llu …" after the two header lines. */
export function formatProcNetDev(entries: Iterable<[string, CounterValues]>): string {
  let text = NET_DEV_HEADER;
  for (const [name, counters] of entries) {
    const columns = NET_DEV_COLUMNS.map(([column, width]) => String(counters[column] ?? 0).padStart(width));
    text += `${name.padStart(6)}: ${columns.join(' ')}\n`;
  }
  return text;
}

const ROUTE_HEADER =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n';

function formatRoutes(v4: string[], v6: string[]): { route: string; ipv6Route: string } {
  const pad = (line: string): string => line.padEnd(127) + '\n';
  const route =
    ROUTE_HEADER +
    v4.map((name, i) => pad(`${name}\t00000000\t0101A8C0\t0003\t0\t0\t${100 * (i + 1)}\t00000000\t0\t0\t0`)).join('');
  const zero = '0'.repeat(32);
  const ipv6Route =
    v6
      .map((name, i) => `${zero} 00 ${zero} 00 fe800000000000000000000000000001 ${(1024 + i).toString(16).padStart(8, '0')} 00000002 00000000 00000003 ${name.padStart(8)}\n`)
      .join('') +
    `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 00200200 ${'lo'.padStart(8)}\n`;
  return { route, ipv6Route };
}

export function makeFixtureTree(spec: FixtureTreeSpec): FixtureTree {
  const root = mkdtempSync(join(tmpdir(), 'netpulse-fixture-'));
  const procRoot = join(root, 'proc');
  const sysRoot = join(root, 'sys');
  const interfaces = new Map<string, { spec: FixtureInterface; ifindex: number; counters: CounterValues }>();
  let nextIfindex = 1;

  /**
   * Every fixture file is written in place: overwritten from offset 0, then cut to length. A reader holding
   * it open (the collector preads /proc/net/dev and each ifindex) never finds it empty between a truncation
   * and the write, as writeFileSync allows.
   */
  const write = (path: string, content: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    const bytes = Buffer.from(content);
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT);
    try {
      writeSync(fd, bytes, 0, bytes.length, 0);
      ftruncateSync(fd, bytes.length);
    } finally {
      closeSync(fd);
    }
  };
  const deviceDir = (name: string, virtual: boolean, ifindex: number): string =>
    virtual
      ? join(sysRoot, 'devices', 'virtual', 'net', name)
      : join(sysRoot, 'devices', 'pci0000:00', `0000:00:${ifindex.toString(16).padStart(2, '0')}.0`, 'net', name);
  const classDir = (name: string): string => join(sysRoot, 'class', 'net', name);

  function writeNetDevFromState(): void {
    write(join(procRoot, 'net', 'dev'), formatProcNetDev([...interfaces].map(([name, entry]) => [name, entry.counters])));
  }

  function removeSys(name: string): void {
    const entry = interfaces.get(name);
    if (entry === undefined) return;
    rmSync(classDir(name), { force: true });
    rmSync(deviceDir(name, entry.spec.virtual ?? false, entry.ifindex), { recursive: true, force: true });
  }

  function writeSys(name: string, ifaceSpec: FixtureInterface, ifindex: number): void {
    const dir = deviceDir(name, ifaceSpec.virtual ?? false, ifindex);
    const operstate = ifaceSpec.operstate ?? 'up';
    const carrier = ifaceSpec.carrier === undefined ? (operstate === 'up' || operstate === 'unknown' ? 1 : 0) : ifaceSpec.carrier;
    const mac = ifaceSpec.address ?? `02:00:00:00:00:${(ifindex % 256).toString(16).padStart(2, '0')}`;
    write(join(dir, 'ifindex'), `${ifindex}\n`);
    write(join(dir, 'iflink'), `${ifindex}\n`);
    write(join(dir, 'operstate'), `${operstate}\n`);
    write(join(dir, 'type'), `${ifaceSpec.type ?? 1}\n`);
    write(join(dir, 'mtu'), `${ifaceSpec.mtu ?? 1500}\n`);
    write(join(dir, 'address'), `${mac}\n`);
    write(join(dir, 'flags'), `0x${(ifaceSpec.flags ?? 0x1003).toString(16)}\n`);
    if (ifaceSpec.speed !== null) write(join(dir, 'speed'), `${ifaceSpec.speed ?? 1000}\n`);
    if (carrier !== null) write(join(dir, 'carrier'), `${carrier}\n`);
    if (ifaceSpec.wireless) {
      write(join(dir, 'wireless', 'link'), '0\n');
      const phy = join(dir, '..', '..', 'ieee80211', 'phy0');
      write(join(phy, 'name'), 'phy0\n');
      symlinkSync(join('..', '..', 'ieee80211', 'phy0'), join(dir, 'phy80211'));
    }
    if (ifaceSpec.bridge) {
      write(join(dir, 'bridge', 'bridge_id'), `8000.${mac.replaceAll(':', '')}\n`);
      write(join(dir, 'bridge', 'stp_state'), '0\n');
    }
    if (ifaceSpec.tun) write(join(dir, 'tun_flags'), '0x1001\n');
    mkdirSync(join(sysRoot, 'class', 'net'), { recursive: true });
    symlinkSync(join('..', '..', dir.slice(sysRoot.length + 1)), classDir(name));
  }

  function addInterface(name: string, ifaceSpec: FixtureInterface = {}): void {
    const ifindex = ifaceSpec.ifindex ?? nextIfindex;
    nextIfindex = Math.max(nextIfindex, ifindex) + 1;
    removeSys(name);
    interfaces.set(name, { spec: ifaceSpec, ifindex, counters: ifaceSpec.counters ?? {} });
    if (ifaceSpec.inSys !== false) writeSys(name, ifaceSpec, ifindex);
    writeNetDevFromState();
  }

  function setDefaultRoutes(v4: string[], v6: string[]): void {
    const { route, ipv6Route } = formatRoutes(v4, v6);
    write(join(procRoot, 'net', 'route'), route);
    write(join(procRoot, 'net', 'ipv6_route'), ipv6Route);
  }

  function entryOf(name: string) {
    const entry = interfaces.get(name);
    if (entry === undefined) throw new Error(`fixture tree has no interface ${name}`);
    return entry;
  }

  mkdirSync(join(sysRoot, 'class', 'net'), { recursive: true });
  for (const [name, ifaceSpec] of Object.entries(spec.interfaces)) addInterface(name, ifaceSpec);
  writeNetDevFromState();
  setDefaultRoutes(spec.defaultRouteV4 ?? [], spec.defaultRouteV6 ?? []);
  const bootId = spec.bootId === undefined ? '8f3c2a91-5d4e-4b7a-9c1f-2e6d8a0b4c37' : spec.bootId;
  if (bootId !== null) write(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), `${bootId}\n`);
  write(
    join(procRoot, 'stat'),
    'cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n' +
      'intr 1462898 0 9 0 0\nctxt 2255224\n' +
      `btime ${spec.btimeSec ?? 1767225600}\nprocesses 26442\nprocs_running 1\nprocs_blocked 0\n`,
  );

  return {
    root,
    procRoot,
    sysRoot,
    setCounters(name, counters) {
      entryOf(name).counters = counters;
      writeNetDevFromState();
    },
    writeNetDev(text) {
      write(join(procRoot, 'net', 'dev'), text);
    },
    addInterface,
    removeInterface(name) {
      removeSys(name);
      interfaces.delete(name);
      writeNetDevFromState();
    },
    removeFromSys(name) {
      removeSys(name);
    },
    setIfindex(name, ifindex) {
      const entry = entryOf(name);
      removeSys(name);
      entry.ifindex = ifindex;
      entry.spec = { ...entry.spec, ifindex };
      if (entry.spec.inSys !== false) writeSys(name, entry.spec, ifindex);
    },
    setDefaultRoutes,
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
