/**
 * The NFLOG half of the kernel seam: binds one nfnetlink_log group over the npm `netlink` package and hands
 * each copied packet (from the IP header on) to a listener. Which packets get copied is decided by the
 * rules in Net-Pulse's nft table (nft-table.ts): DNS answers and the first packets of 443 flows only.
 */
import { Protocol, createNetlink, type NetlinkSocket } from 'netlink';
import { attr, be32, nfgenmsg, parseAttrs, u8 } from '../shared/netlink-attrs.js';

const NFNL_SUBSYS_ULOG = 4;
const NFULNL_MSG_PACKET = 0;
const NFULNL_MSG_CONFIG = 1;
const NFULA_CFG = { CMD: 1, MODE: 2, TIMEOUT: 4 } as const;
const NFULNL_CFG_CMD_BIND = 1;
const NFULNL_COPY_PACKET = 2;
const NFULA_PAYLOAD = 9;

const msgType = (msg: number): number => (NFNL_SUBSYS_ULOG << 8) | msg;

/** First group Net-Pulse tries ("np" in ASCII); the next few are tried when another program holds one. */
export const NFLOG_GROUP_BASE = 0x6e70;
const GROUP_TRIES = 8;
/** A ClientHello segment or a DNS answer fits; more is not needed. */
const COPY_RANGE_BYTES = 4096;

export interface Nflog {
  group: number;
  /** Packets handed over so far. */
  readonly packets: number;
  close(): void;
}

async function configure(sock: NetlinkSocket, group: number, attrs: Buffer[]): Promise<void> {
  await sock.request(msgType(NFULNL_MSG_CONFIG), Buffer.concat([nfgenmsg(0, group), ...attrs]), { timeout: 5000 });
}

/** Binds the first free group from NFLOG_GROUP_BASE; throws when none can be bound (no CAP_NET_ADMIN, no NFLOG). */
export async function openNflog(onPacket: (packet: Buffer) => void): Promise<Nflog> {
  const sock = createNetlink(Protocol.NETFILTER, { recvBufferSize: 4 * 1024 * 1024 } as Parameters<typeof createNetlink>[1]);
  let group = -1;
  let lastError: unknown = null;
  for (let g = NFLOG_GROUP_BASE; g < NFLOG_GROUP_BASE + GROUP_TRIES; g++) {
    try {
      await configure(sock, g, [attr(NFULA_CFG.CMD, u8(NFULNL_CFG_CMD_BIND))]);
      group = g;
      break;
    } catch (err) {
      lastError = err;
      if ((err as { code?: string }).code !== 'EBUSY') break;
    }
  }
  if (group < 0) {
    sock.close();
    throw lastError instanceof Error ? lastError : new Error('no NFLOG group could be bound');
  }
  const mode = Buffer.alloc(6);
  mode.writeUInt32BE(COPY_RANGE_BYTES, 0);
  mode.writeUInt8(NFULNL_COPY_PACKET, 4);
  try {
    await configure(sock, group, [attr(NFULA_CFG.MODE, mode)]);
    // Hand packets over within 50 ms rather than the default second: a label should come before the first dump.
    await configure(sock, group, [attr(NFULA_CFG.TIMEOUT, be32(5))]);
  } catch (err) {
    sock.close();
    throw err;
  }
  let packets = 0;
  sock.on('message', (msgs) => {
    for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
      if (m.type !== msgType(NFULNL_MSG_PACKET) || m.data.length < 4) continue;
      const payload = parseAttrs(m.data.subarray(4)).get(NFULA_PAYLOAD);
      if (payload === undefined) continue;
      packets++;
      onPacket(payload);
    }
  });
  sock.ref();
  return {
    group,
    get packets() {
      return packets;
    },
    close() {
      // Releasing the socket unbinds the group (the kernel drops the instance with its owner).
      sock.close();
    },
  };
}
