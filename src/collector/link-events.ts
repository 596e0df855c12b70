/**
 * Link events over rtnetlink (issue #8): a NETLINK_ROUTE socket in RTNLGRP_LINK, no child process. Loaded only
 * on Linux (server.ts imports it), and only when the counters come from the real /proc.
 *
 * What each message does:
 * - Every RTM_NEWLINK / RTM_DELLINK: the interfaces metadata cache is invalidated (/api/interfaces never
 *   answers with a list from before the change).
 * - RTM_DELLINK, and RTM_NEWLINK of a device that is down: its IFLA_STATS64 counters go to the collector
 *   (collector.noteLinkCounters), which counts the traffic since its last reading through the same delta
 *   rules, state and write path as a poll. That is how the bytes between the last poll and a deletion are
 *   counted: no poll can read them afterwards.
 * - RTM_NEWLINK of a device not seen before under that name (created, re-created, renamed, moved into this
 *   namespace): a poll soon (debounced), so the new device gets its reading at once, not at the next tick.
 *
 * Measured on this machine's kernel (6.18, veth; test/kernel/link-events.test.ts): when a veth pair is
 * deleted, both the RTM_NEWLINK (down) and the RTM_DELLINK of each end carry its complete tx counters, but
 * rx counters of 0 — a veth's rx is its peer's tx, read through the peer pointer, which veth_dellink clears
 * before the devices are closed and unregistered. So the final rx of a deleted veth is in no message of its
 * own (the collector keeps the rx of its last reading: a counter below it is one the message does not carry).
 * The same ends moved to another namespace (RTM_DELLINK here, then RTM_NEWLINK there) carry complete rx and
 * tx, as does a rename or a down/up. A real NIC could not be tested here (no hardware in this VM): its
 * counters come from the driver (ndo_get_stats64), which both messages read after ndo_stop; drivers that
 * fetch them from the hardware may report stale or zero values then, which the same rule leaves uncounted.
 */
import { Protocol, createNetlink, type NetlinkMessage, type NetlinkSocket } from 'netlink';
import { parseAttrs } from '../shared/netlink-attrs.js';
import type { Logger } from '../shared/logger.js';
import type { Collector } from './collector.js';
import type { RawCounters } from './counter-source.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTNLGRP_LINK = 1;
const IFLA_IFNAME = 3;
const IFLA_STATS64 = 23;
const IFF_UP = 0x1;
/** struct ifinfomsg: family, pad, type (u16), index (s32), flags (u32), change (u32). */
const IFINFOMSG_LEN = 16;
/** struct rtnl_link_stats64 up to rx_missed_errors (16 u64); newer kernels send more, which are ignored. */
const STATS64_MIN_LEN = 16 * 8;

export interface LinkMessage {
  kind: 'new' | 'del';
  ifindex: number;
  name: string | null;
  /** ifi_flags (IFF_UP = 1, …). */
  flags: number;
  /** IFLA_STATS64 as /proc/net/dev prints it; null when the message has none. */
  counters: RawCounters | null;
}

/**
 * IFLA_STATS64 (struct rtnl_link_stats64, host byte order) as the eight counters /proc/net/dev prints, so that
 * a message and a poll never disagree: rx drops are rx_dropped + rx_missed_errors there (dev_seq_printf_stats).
 */
export function countersFromStats64(buf: Buffer): RawCounters | null {
  if (buf.length < STATS64_MIN_LEN) return null;
  const u64 = (i: number): bigint => buf.readBigUInt64LE(i * 8);
  return {
    rxPackets: u64(0),
    txPackets: u64(1),
    rxBytes: u64(2),
    txBytes: u64(3),
    rxErrors: u64(4),
    txErrors: u64(5),
    rxDrops: u64(6) + u64(15),
    txDrops: u64(7),
  };
}

/** One rtnetlink message as a link message; null for any other type or a truncated one. */
export function parseLinkMessage(type: number, data: Buffer): LinkMessage | null {
  if ((type !== RTM_NEWLINK && type !== RTM_DELLINK) || data.length < IFINFOMSG_LEN) return null;
  const ifindex = data.readInt32LE(4);
  if (ifindex <= 0) return null;
  const attrs = parseAttrs(data.subarray(IFINFOMSG_LEN));
  const nameBuf = attrs.get(IFLA_IFNAME);
  const nul = nameBuf?.indexOf(0) ?? -1;
  const stats = attrs.get(IFLA_STATS64);
  return {
    kind: type === RTM_NEWLINK ? 'new' : 'del',
    ifindex,
    name: nameBuf === undefined ? null : nameBuf.toString('utf8', 0, nul >= 0 ? nul : nameBuf.length),
    flags: data.readUInt32LE(8),
    counters: stats === undefined ? null : countersFromStats64(stats),
  };
}

export interface LinkEventDeps {
  collector: Pick<Collector, 'noteLinkCounters' | 'pollNow' | 'stats'>;
  /** The interfaces metadata cache's invalidate() (issue #13). */
  invalidate: () => void;
  logger: Logger;
  now?: () => number;
  monotonicMs?: () => number;
  /** How long after a new device's message the poll runs; messages meanwhile share it. Default 200 ms. */
  pollDelayMs?: number;
  /** Opens the NETLINK_ROUTE socket (tests replace it to make the open fail). */
  openSocket?: () => NetlinkSocket;
}

export interface LinkEventHandler {
  handle(message: LinkMessage): void;
  close(): void;
}

/** How many device names are remembered to tell a new one (bounded: a container host creates many). */
const MAX_KNOWN = 4096;

/** What a link message makes happen; the socket-free half, tested without root. */
export function createLinkEventHandler(deps: LinkEventDeps): LinkEventHandler {
  const now = deps.now ?? Date.now;
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());
  const pollDelayMs = deps.pollDelayMs ?? 200;
  const known = new Map<number, string | null>();
  let pollTimer: NodeJS.Timeout | null = null;
  let closed = false;

  function pollSoon(): void {
    if (pollTimer !== null || closed) return;
    pollTimer = setTimeout(() => {
      pollTimer = null;
      // Only while the collector polls on its own: a stopped collector stays stopped.
      if (!closed && deps.collector.stats().running) void deps.collector.pollNow({ commit: false });
    }, pollDelayMs);
    pollTimer.unref();
  }

  return {
    handle(m) {
      if (closed) return;
      deps.invalidate();
      const down = (m.flags & IFF_UP) === 0;
      if (m.counters !== null && (m.kind === 'del' || down)) {
        void deps.collector.noteLinkCounters({ ifindex: m.ifindex, name: m.name, counters: m.counters, gone: m.kind === 'del', timeMs: now(), monoMs: monotonicMs() });
      }
      if (m.kind === 'del') {
        known.delete(m.ifindex);
        return;
      }
      if (known.get(m.ifindex) !== m.name) {
        if (known.size >= MAX_KNOWN) known.clear();
        known.set(m.ifindex, m.name);
        pollSoon();
      }
    },
    close() {
      closed = true;
      if (pollTimer !== null) clearTimeout(pollTimer);
      pollTimer = null;
    },
  };
}

export interface LinkEvents {
  /** Whether the socket listens; false with the reason when it could not be opened. */
  readonly on: boolean;
  readonly reason: string | null;
  /** Messages the kernel dropped because the socket's buffer was full (ENOBUFS): the polls cover them. */
  readonly lost: number;
  close(): void;
}

/** Link events that are off, and why (reported by GET /collector/status). */
export function linkEventsOff(reason: string): LinkEvents {
  return { on: false, reason, lost: 0, close: () => undefined };
}

const RCVBUF_BYTES = 1024 * 1024;

/**
 * Opens the socket and subscribes to RTNLGRP_LINK; off (logged once, with the reason) when that fails — no
 * netlink, a seccomp filter, a kernel without it: the collector goes on polling as before.
 */
export function startLinkEvents(deps: LinkEventDeps): LinkEvents {
  let socket: NetlinkSocket;
  try {
    socket = (deps.openSocket ?? (() => createNetlink(Protocol.ROUTE)))();
    try {
      socket.addMembership(RTNLGRP_LINK);
    } catch (err) {
      socket.close();
      throw err;
    }
  } catch (err) {
    const reason = `the rtnetlink socket could not be opened: ${err instanceof Error ? err.message : String(err)}`;
    deps.logger.warn({ err: reason }, 'link events unavailable (rtnetlink): the collector polls only, so the traffic between the last poll and an interface deletion is not counted');
    return linkEventsOff(reason);
  }
  try {
    socket.setRecvBufferSize(RCVBUF_BYTES);
  } catch {
    // capped by net.core.rmem_max: the smaller buffer works, it only loses messages sooner
  }
  const handler = createLinkEventHandler(deps);
  let lost = 0;
  socket.on('message', (msgs: NetlinkMessage[]) => {
    for (const msg of Array.isArray(msgs) ? msgs : [msgs]) {
      const m = parseLinkMessage(msg.type, msg.data);
      if (m !== null) handler.handle(m);
    }
  });
  socket.on('error', (err) => {
    if (err.code === 'ENOBUFS') {
      if (lost++ === 0) deps.logger.warn('link events: the kernel dropped messages (socket buffer full); the polls count what they missed, except a deleted interface\'s last traffic');
      deps.invalidate();
    } else {
      deps.logger.warn({ err: err.message }, 'link events: socket error');
    }
  });
  return {
    on: true,
    reason: null,
    get lost() {
      return lost;
    },
    close() {
      handler.close();
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}
