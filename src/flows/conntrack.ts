/**
 * The conntrack half of the kernel seam: ctnetlink over the npm `netlink` package (no spawn) — a dump
 * of every entry, DESTROY events with the final counters of each flow, and writes of a flow's mark.
 * Three sockets, so a dump's multipart answer never interleaves with an event or an ACK.
 * Also the two per-netns sysctls flows need (accounting and timestamps), switched on only when off and
 * put back on close.
 */
import fs from 'node:fs/promises';
import { Protocol, createNetlink, type NetlinkMessage, type NetlinkSocket } from 'netlink';
import {
  IPCTNL_MSG_CT_DELETE,
  IPCTNL_MSG_CT_GET,
  IPCTNL_MSG_CT_NEW,
  NFNLGRP_CONNTRACK_DESTROY,
  NLM_F_DUMP,
  ctMsgType,
  dumpRequest,
  markUpdateRequest,
  parseCtMessage,
  type CtEntry,
  type CtTuple,
} from './conntrack-codec.js';

export interface Conntrack {
  /** Every entry of this network namespace's table. */
  dump(): Promise<CtEntry[]>;
  /** Called with each flow's final state when the kernel destroys its entry. */
  onDestroy(listener: (entry: CtEntry) => void): void;
  /** Sets the bits of `mask` in the entry's mark; false when the entry is gone. */
  setMark(orig: CtTuple, value: number, mask: number, zone?: number): Promise<boolean>;
  /** Events the kernel dropped because the socket buffer was full (ENOBUFS). */
  readonly eventsLost: number;
  close(): void;
}

const EVENT_RCVBUF_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

interface SocketOptions {
  recvBufferSize?: number;
}

function open(options: SocketOptions = {}): NetlinkSocket {
  // The typings ask for both buffer sizes; the package applies only the ones given.
  return createNetlink(Protocol.NETFILTER, options as Parameters<typeof createNetlink>[1]);
}

function entriesOf(msgs: NetlinkMessage[]): CtEntry[] {
  const out: CtEntry[] = [];
  for (const m of msgs) {
    if ((m.type >> 8) !== 1) continue; // DONE, ERROR: not an entry
    const e = parseCtMessage(m.data);
    if (e !== null) out.push(e);
  }
  return out;
}

export async function openConntrack(): Promise<Conntrack> {
  const dumpSocket = open();
  const markSocket = open();
  const events = open({ recvBufferSize: EVENT_RCVBUF_BYTES });
  const listeners: ((e: CtEntry) => void)[] = [];
  let eventsLost = 0;
  try {
    events.addMembership(NFNLGRP_CONNTRACK_DESTROY);
    try {
      events.setRecvBufferSize(EVENT_RCVBUF_BYTES);
    } catch {
      // capped by net.core.rmem_max: the smaller buffer still works, it just loses events sooner
    }
    events.ref();
  } catch (err) {
    dumpSocket.close();
    markSocket.close();
    events.close();
    throw err;
  }
  events.on('message', (msgs) => {
    for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
      if (m.type !== ctMsgType(IPCTNL_MSG_CT_DELETE)) continue;
      const e = parseCtMessage(m.data);
      if (e !== null) for (const l of listeners) l(e);
    }
  });
  events.on('error', (err) => {
    if (err.code === 'ENOBUFS') eventsLost++;
  });
  // Unreferenced sockets would keep nothing alive; the events socket is referenced until close.
  return {
    async dump() {
      const [msgs] = await dumpSocket.request(ctMsgType(IPCTNL_MSG_CT_GET), dumpRequest(), { flags: NLM_F_DUMP, timeout: REQUEST_TIMEOUT_MS });
      return entriesOf(msgs);
    },
    onDestroy(listener) {
      listeners.push(listener);
    },
    async setMark(orig, value, mask, zone = 0) {
      try {
        await markSocket.request(ctMsgType(IPCTNL_MSG_CT_NEW), markUpdateRequest(orig, value, mask, zone), { timeout: REQUEST_TIMEOUT_MS });
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return false;
        throw err;
      }
    },
    get eventsLost() {
      return eventsLost;
    },
    close() {
      listeners.length = 0;
      for (const s of [dumpSocket, markSocket, events]) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

/** A per-network-namespace sysctl that flows need on; switched on only when off, and put back by restore(). */
export interface SysctlSwitch {
  name: string;
  /** True when Net-Pulse turned it on (it was off). */
  changed: boolean;
  restore(): Promise<void>;
}

export async function switchOn(name: string, root = '/proc/sys'): Promise<SysctlSwitch> {
  const file = `${root}/${name.replaceAll('.', '/')}`;
  const before = (await fs.readFile(file, 'utf8')).trim();
  if (before !== '0') return { name, changed: false, restore: async () => undefined };
  await fs.writeFile(file, '1\n');
  return {
    name,
    changed: true,
    async restore() {
      await fs.writeFile(file, `${before}\n`).catch(() => undefined);
    },
  };
}
