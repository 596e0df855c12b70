import { closeSync, fstatSync, openSync, readFileSync, readSync, statfsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { classifyInterface } from './classify.js';
import {
  type CounterReading,
  type CounterSource,
  type InterfaceAddress,
  type InterfaceCounters,
  type InterfaceMeta,
  type RawCounters,
} from './counter-source.js';
import { anyCounterWentDown } from './deltas.js';
import { isValidInterfaceName } from './interface-name.js';
import { createProcNetDevParser } from './proc-net-dev.js';

/**
 * The Linux counter source: /proc and /sys under roots passed in (tests pass a fixture tree).
 *
 * Hot path (readCounters, every poll), all synchronous: a read of <proc>/net/dev through a descriptor kept
 * open (pread from offset 0 makes procfs print the file afresh; an fstat notices a file that was deleted or
 * replaced, and the path is opened again), its parse (lines unchanged since the last read are not parsed
 * again, see createProcNetDevParser), and a pread of each interface's ifindex through descriptors kept open
 * (OpenIfindex). It is synchronous on purpose: procfs and sysfs answer from memory in microseconds, while an
 * fs/promises read costs ~250 µs in thread-pool round trips, and neither file takes the rtnl lock, so they
 * cannot stall the event loop. Metadata (listInterfaces) reads /sys asynchronously: some attributes (speed)
 * call into the driver under rtnl and may wait.
 *
 * An interface is taken for the same device as at the previous read when its ifindex descriptor still reads
 * the same ifindex and none of its counters went down; otherwise its name is opened afresh. A deleted
 * device's descriptor fails (ENODEV) even when a device of the same name exists again, so a deletion and
 * re-creation between two reads is noticed whatever the counters did meanwhile. Counters going down is what
 * a reset looks like (and a 32-bit driver wrap, where opening afresh is merely wasted).
 */

export interface LinuxSourceOptions {
  /** Where procfs is mounted: '/proc', or a fixture folder. */
  procRoot: string;
  /** Where sysfs is mounted: '/sys', or a fixture folder. */
  sysRoot: string;
  /** Addresses per interface; defaults to os.networkInterfaces. */
  networkInterfaces?: () => ReturnType<typeof os.networkInterfaces>;
  /** Wall clock in ms since the epoch; defaults to Date.now. */
  now?: () => number;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;
const PROC_SUPER_MAGIC = 0x9fa0;
const IPV4_ANY = '00000000';
const IPV6_ANY = '0'.repeat(32);

/**
 * An open file descriptor on /sys/class/net/<if>/ifindex, read again at every poll (a pread costs ~1.5 µs,
 * a fresh open and read ~12 µs). When the interface is deleted, reads of the old descriptor fail with
 * ENODEV even if an interface of the same name was created since: that is how a deletion and re-creation
 * between two polls is noticed, whatever the counters did meanwhile.
 */
interface OpenIfindex {
  fd: number;
  ifindex: number;
  counters: RawCounters;
  /** The read (readCounters call) that last listed the interface. */
  seenInRead: number;
  /** What the last read returned for the interface: returned again while ifindex and counters are the same. */
  reading: InterfaceCounters | null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseInteger(text: string | null, radix = 10): number | null {
  if (text === null) return null;
  const trimmed = text.trim();
  const valid = radix === 16 ? /^(0x)?[0-9a-f]+$/i.test(trimmed) : /^-?[0-9]+$/.test(trimmed);
  if (!valid) return null;
  const value = Number.parseInt(trimmed, radix);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * The number in the first `length` bytes of `buffer` as parseInteger reads it, without making a string in
 * the usual case (up to 15 ASCII digits and an optional '\n').
 */
function parseIntegerBytes(buffer: Buffer, length: number): number | null {
  let value = 0;
  let digits = 0;
  while (digits < length) {
    const byte = buffer[digits] as number;
    if (byte < 0x30 || byte > 0x39) break;
    value = value * 10 + (byte - 0x30);
    digits++;
  }
  if (digits > 0 && digits <= 15 && (digits === length || (digits === length - 1 && buffer[digits] === 0x0a))) return value;
  return parseInteger(buffer.toString('utf8', 0, length));
}

/**
 * The interfaces a default route leaves through, from the text of <proc>/net/route and
 * <proc>/net/ipv6_route. A default route is destination 0/0 with RTF_UP and without RTF_REJECT; the
 * kernel's IPv6 "unreachable default" on lo is skipped.
 */
export function parseDefaultRouteInterfaces(routeV4Text: string, routeV6Text: string): Set<string> {
  const names = new Set<string>();
  // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT (hex, host byte order).
  for (const line of routeV4Text.split('\n').slice(1)) {
    const [iface, destination, , flagsHex, , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== IPV4_ANY || mask !== IPV4_ANY) continue;
    const flags = parseInteger(flagsHex ?? null, 16);
    if (flags !== null && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0) names.add(iface);
  }
  // dest dest_len src src_len next_hop metric refcnt use flags device (no header line).
  for (const line of routeV6Text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, prefixLength, , , , , , , flagsHex, device] = fields;
    if (destination !== IPV6_ANY || prefixLength !== '00' || device === undefined || device === 'lo') continue;
    const flags = parseInteger(flagsHex ?? null, 16);
    if (flags !== null && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0) names.add(device);
  }
  return names;
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function toMac(address: string | null): string | null {
  if (address === null || address === '' || /^[0:]+$/.test(address)) return null;
  return address.toLowerCase();
}

function toSpeedMbps(text: string | null): number | null {
  const speed = parseInteger(text);
  // -1 is SPEED_UNKNOWN; older kernels print it as an unsigned 4294967295.
  return speed !== null && speed > 0 && speed < 0x7fffffff ? speed : null;
}

/**
 * operstate 'up', or 'unknown' (loopback, tun, WireGuard never report carrier state) while the link is
 * administratively up and running. The flags file holds dev->flags, where the kernel never stores
 * IFF_RUNNING (it computes it for ioctls); so "running" is IFF_RUNNING if present, else carrier = 1.
 */
function isLinkUp(operState: string, flags: number | null, carrier: string | null): boolean {
  if (operState === 'up') return true;
  if (operState !== 'unknown' || flags === null || (flags & IFF_UP) === 0) return false;
  return (flags & IFF_RUNNING) !== 0 || carrier === '1';
}

export function createLinuxSource(options: LinuxSourceOptions): Required<CounterSource> {
  const { procRoot, sysRoot } = options;
  const now = options.now ?? Date.now;
  const networkInterfaces = options.networkInterfaces ?? os.networkInterfaces;
  const netDevPath = join(procRoot, 'net', 'dev');
  const classNet = join(sysRoot, 'class', 'net');

  const parser = createProcNetDevParser();
  const ifindexFiles = new Map<string, OpenIfindex>();
  const ifindexBuffer = Buffer.alloc(32);
  let reads = 0;
  /** <proc>/net/dev, kept open; onProcfs: a procfs file can be neither deleted nor replaced, so no fstat. */
  let netDev: { fd: number; onProcfs: boolean } | null = null;
  /** The bytes of the current read, and of the previous one with its text (returned again when equal). */
  let netDevBytes = Buffer.allocUnsafe(16 * 1024);
  let lastBytes = Buffer.allocUnsafe(16 * 1024);
  let lastLength = -1;
  let lastText = '';
  let bootId: string | null | undefined;

  function closeNetDev(): void {
    if (netDev !== null) closeQuietly(netDev.fd);
    netDev = null;
  }

  function isOnProcfs(path: string): boolean {
    try {
      return statfsSync(path).type === PROC_SUPER_MAGIC;
    } catch {
      return false;
    }
  }

  /**
   * The text of <proc>/net/dev, read from offset 0 through the descriptor kept open. As readFileSync reads
   * it: a file whose size is known (a regular file) up to that size, else (procfs) to the end. A regular file
   * that was deleted or replaced meanwhile (no links left) is opened again by its path.
   */
  function readNetDevSync(): string {
    try {
      let size = 0;
      if (netDev !== null && !netDev.onProcfs) {
        const stat = fstatSync(netDev.fd);
        if (stat.nlink === 0) closeNetDev();
        else size = stat.size;
      }
      if (netDev === null) {
        const fd = openSync(netDevPath, 'r');
        netDev = { fd, onProcfs: isOnProcfs(netDevPath) };
        if (!netDev.onProcfs) size = fstatSync(fd).size;
      }
      const limit = size > 0 ? size : Infinity;
      let length = 0;
      while (length < limit) {
        if (length === netDevBytes.length) {
          const larger = Buffer.allocUnsafe(netDevBytes.length * 2);
          netDevBytes.copy(larger, 0, 0, length);
          netDevBytes = larger;
        }
        const n = readSync(netDev.fd, netDevBytes, length, Math.min(netDevBytes.length, limit) - length, length);
        if (n === 0) break;
        length += n;
      }
      if (length === lastLength && netDevBytes.compare(lastBytes, 0, length, 0, length) === 0) return lastText;
      const text = netDevBytes.toString('utf8', 0, length);
      [netDevBytes, lastBytes] = [lastBytes, netDevBytes];
      lastLength = length;
      lastText = text;
      return text;
    } catch (error) {
      closeNetDev();
      throw new Error(`cannot read interface counters from ${netDevPath}: ${errorText(error)}`, { cause: error });
    }
  }

  /** The boot id cannot change while we run: read once, failure included. */
  function readBootId(): string | null {
    if (bootId === undefined) {
      try {
        bootId = readFileSync(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').trim() || null;
      } catch {
        bootId = null;
      }
    }
    return bootId;
  }

  function parseIfindex(text: string, path: string): number {
    const ifindex = parseInteger(text);
    if (ifindex === null || ifindex <= 0) throw new Error(`unexpected ifindex ${JSON.stringify(text)} in ${path}`);
    return ifindex;
  }

  /** Opens and reads <sys>/class/net/<name>/ifindex; the descriptor stays open for the next polls. */
  function openIfindex(name: string, counters: RawCounters): OpenIfindex {
    const path = join(classNet, name, 'ifindex');
    const fd = openSync(path, 'r');
    try {
      const n = readSync(fd, ifindexBuffer, 0, ifindexBuffer.length, 0);
      return { fd, ifindex: parseIfindex(ifindexBuffer.toString('utf8', 0, n), path), counters, seenInRead: 0, reading: null };
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Re-reads an open ifindex: false when it changed or the interface behind the descriptor is gone. */
  function ifindexUnchanged(open: OpenIfindex): boolean {
    try {
      return parseIntegerBytes(ifindexBuffer, readSync(open.fd, ifindexBuffer, 0, ifindexBuffer.length, 0)) === open.ifindex;
    } catch {
      return false;
    }
  }

  function closeQuietly(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }

  // Entirely synchronous inside, so two overlapping calls cannot interleave their cache updates.
  async function readCounters(): Promise<CounterReading> {
    const text = readNetDevSync();
    const timeMs = now();
    const interfaces: InterfaceCounters[] = [];
    const failures: CounterReading['failures'] = [];
    const read = ++reads;
    for (const { name, counters } of parser.parse(text)) {
      let open = ifindexFiles.get(name);
      // A name with an open descriptor was checked when it was opened.
      if (open === undefined && !isValidInterfaceName(name)) {
        failures.push({ name, error: 'not a valid interface name; not looked up in /sys' });
        continue;
      }
      // Same interface as last time if its descriptor still reads the same ifindex and no counter went
      // down; otherwise (deleted, re-created, reset) open the name afresh.
      if (open !== undefined && (!ifindexUnchanged(open) || anyCounterWentDown(open.counters, counters))) {
        closeQuietly(open.fd);
        ifindexFiles.delete(name);
        open = undefined;
      }
      if (open === undefined) {
        try {
          open = openIfindex(name, counters);
        } catch (error) {
          failures.push({ name, error: errorText(error) });
          continue;
        }
        ifindexFiles.set(name, open);
      }
      open.counters = counters;
      open.seenInRead = read;
      let reading = open.reading;
      if (reading === null || reading.counters !== counters || reading.ifindex !== open.ifindex) {
        reading = { name, ifindex: open.ifindex, counters };
        open.reading = reading;
      }
      interfaces.push(reading);
    }
    // Every network namespace has lo: a file with no interface at all is a broken read, not "all gone"
    // (treating it as all gone would count every interface from zero when they reappear).
    if (interfaces.length === 0 && failures.length === 0) {
      throw new Error(`${netDevPath} lists no interfaces`);
    }
    // Names that vanished drop out (their descriptors closed), so one that comes back is opened afresh.
    for (const [name, open] of ifindexFiles) {
      if (open.seenInRead === read) continue;
      closeQuietly(open.fd);
      ifindexFiles.delete(name);
    }
    return { timeMs, bootId: readBootId(), interfaces, failures };
  }

  function addressesOf(name: string, all: ReturnType<typeof os.networkInterfaces>): InterfaceAddress[] {
    return (all[name] ?? []).map((info) => ({
      family: info.family === 'IPv4' ? 'IPv4' : 'IPv6',
      address: info.address,
      netmask: info.netmask,
      cidr: info.cidr ?? null,
    }));
  }

  async function readMeta(
    name: string,
    defaultRouteInterfaces: Set<string>,
    allAddresses: ReturnType<typeof os.networkInterfaces>,
  ): Promise<InterfaceMeta | null> {
    const dir = join(classNet, name);
    const attr = (file: string): Promise<string | null> => readText(join(dir, file));
    const [operStateText, typeText, mtuText, speedText, addressText, ifindexText, flagsText, carrier] =
      await Promise.all([
        attr('operstate'),
        attr('type'),
        attr('mtu'),
        attr('speed'), // EINVAL on virtual links and links that are down: unknown, not an error
        attr('address'),
        attr('ifindex'),
        attr('flags'),
        attr('carrier'),
      ]);
    const [hasWireless, hasPhy80211, isBridge, isTunTap, isVirtual] = await Promise.all([
      exists(join(dir, 'wireless')),
      exists(join(dir, 'phy80211')),
      exists(join(dir, 'bridge')),
      exists(join(dir, 'tun_flags')),
      exists(join(sysRoot, 'devices', 'virtual', 'net', name)),
    ]);
    // Gone from /sys since /proc/net/dev listed it.
    if (operStateText === null && typeText === null && ifindexText === null) return null;

    const linkType = parseInteger(typeText);
    const flags = parseInteger(flagsText, 16);
    const operState = operStateText === null || operStateText === '' ? 'unknown' : operStateText;
    return {
      name,
      kind: classifyInterface({
        name,
        linkType,
        isLoopback: flags !== null && (flags & IFF_LOOPBACK) !== 0,
        isWireless: hasWireless || hasPhy80211,
        isBridge,
        isTunTap,
        isVirtual,
      }),
      ifindex: parseInteger(ifindexText),
      isUp: isLinkUp(operState, flags, carrier),
      operState,
      mtu: parseInteger(mtuText),
      speedMbps: toSpeedMbps(speedText),
      mac: toMac(addressText),
      isVirtual,
      addresses: addressesOf(name, allAddresses),
      hasDefaultRoute: defaultRouteInterfaces.has(name),
    };
  }

  async function listInterfaces(): Promise<InterfaceMeta[]> {
    const names = parser.parse(readNetDevSync()).map((entry) => entry.name).filter(isValidInterfaceName);
    const [routeV4, routeV6] = await Promise.all([
      readText(join(procRoot, 'net', 'route')),
      readText(join(procRoot, 'net', 'ipv6_route')),
    ]);
    const defaultRouteInterfaces = parseDefaultRouteInterfaces(routeV4 ?? '', routeV6 ?? '');
    const allAddresses = networkInterfaces();
    const metas = await Promise.all(names.map((name) => readMeta(name, defaultRouteInterfaces, allAddresses)));
    return metas.filter((meta): meta is InterfaceMeta => meta !== null);
  }

  async function linkSpeeds(names: readonly string[]): Promise<Map<string, number | null>> {
    const texts = await Promise.all(names.map((name) => readText(join(classNet, name, 'speed'))));
    return new Map(names.map((name, i) => [name, toSpeedMbps(texts[i]!)]));
  }

  async function readBootTimeMs(): Promise<number | null> {
    const stat = await readText(join(procRoot, 'stat'));
    const match = stat === null ? null : /^btime\s+(\d+)\s*$/m.exec(stat);
    return match?.[1] === undefined ? null : Number(match[1]) * 1000;
  }

  return { readCounters, listInterfaces, linkSpeeds, readBootTimeMs };
}
