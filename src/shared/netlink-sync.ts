/**
 * A synchronous netlink socket that never waits: socket(2), send(2) and recv(2) of the C library, called through
 * koffi (already loaded for libnftables). For requests the kernel answers in the caller's own system calls —
 * a GET, or a dump, which netlink builds during send() and each recv() — so every answer is already queued
 * when recv() runs with MSG_DONTWAIT: nothing waits, and one request costs its system calls, not an event-loop
 * turn per datagram (the npm `netlink` socket's promise, timer and callback per datagram cost 0.2–0.4 ms of
 * the 250-host read here). Not for multicast groups or anything the kernel sends later: use `netlink` for those.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
/** Room for the largest datagram a dump sends (the kernel caps them at 32 KiB). */
const RECV_BUFFER = 64 * 1024;
/** Datagrams one request may take before it is called broken: a dump of 100,000 set elements is ~200. */
const MAX_DATAGRAMS = 100_000;

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** A failed system call or a netlink error answer; `code` is the errno name (ENOENT, EPERM, …). */
export class NetlinkError extends Error {
  override name = 'NetlinkError';
  constructor(
    readonly code: string,
    what: string,
  ) {
    super(`${what}: ${code}`);
  }
}
const errorOf = (errno: number, what: string) => new NetlinkError(errnoNames.get(errno) ?? `errno ${errno}`, what);

export interface SyncNetlink {
  /**
   * Sends one request (REQUEST|ACK, plus `flags`) and returns the answers with its sequence number, in order:
   * each message's type and payload (after the 16-byte header), copied, so they stay valid. A dump ends at DONE, a GET at its
   * ACK. Throws NetlinkError for an error answer (code = errno name) or a failed call.
   */
  request(type: number, flags: number, payload: Buffer): { type: number; data: Buffer }[];
  close(): void;
}

type Libc = {
  socket: (domain: number, type: number, protocol: number) => number;
  send: (fd: number, buf: Buffer, len: number, flags: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  close: (fd: number) => number;
  errno: () => number;
};
let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc !== null) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  // The process's own symbols: Node is linked against the C library, whichever it is (glibc, musl).
  const self = koffi.load(null);
  libc = {
    socket: self.func('int socket(int domain, int type, int protocol)') as Libc['socket'],
    send: self.func('long send(int fd, const void *buf, unsigned long len, int flags)') as Libc['send'],
    recv: self.func('long recv(int fd, _Out_ void *buf, unsigned long len, int flags)') as Libc['recv'],
    close: self.func('int close(int fd)') as Libc['close'],
    errno: () => koffi.errno(),
  };
  return libc;
}

/** Opens a netlink socket of `protocol` (NETLINK_NETFILTER = 12, …); throws when koffi or the socket cannot. */
export function openSyncNetlink(protocol: number): SyncNetlink {
  const c = loadLibc();
  let fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw errorOf(c.errno(), 'netlink socket');
  const buf = Buffer.alloc(RECV_BUFFER);
  let seq = 0;
  return {
    request(type, flags, payload) {
      if (fd < 0) throw new NetlinkError('EBADF', 'netlink socket closed');
      seq = (seq % 0x7fff_ffff) + 1;
      const s = seq;
      const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
      const msg = Buffer.alloc(NLMSG_HDRLEN + payload.length);
      msg.writeUInt32LE(msg.length, 0);
      msg.writeUInt16LE(type, 4);
      msg.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6);
      msg.writeUInt32LE(s, 8);
      payload.copy(msg, NLMSG_HDRLEN);
      if (c.send(fd, msg, msg.length, 0) !== msg.length) throw errorOf(c.errno(), 'netlink send');
      const out: { type: number; data: Buffer }[] = [];
      for (let n = 0; n < MAX_DATAGRAMS; n++) {
        const len = c.recv(fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC);
        if (len < 0) throw errorOf(c.errno(), 'netlink recv');
        if (len > buf.length) throw new NetlinkError('EMSGSIZE', `netlink answer of ${len} bytes`);
        for (let off = 0; off + NLMSG_HDRLEN <= len; ) {
          const mlen = buf.readUInt32LE(off);
          if (mlen < NLMSG_HDRLEN || off + mlen > len) throw new NetlinkError('EPROTO', 'netlink message length');
          // Answers to an earlier request that threw halfway are skipped by their sequence number.
          if (buf.readUInt32LE(off + 8) === s) {
            const mtype = buf.readUInt16LE(off + 4);
            if (mtype === NLMSG_DONE) return out;
            if (mtype === NLMSG_ERROR) {
              const errno = -buf.readInt32LE(off + NLMSG_HDRLEN);
              if (errno !== 0) throw errorOf(errno, 'netlink request');
              if (!dump) return out; // the ACK after a GET's answer
            } else {
              out.push({ type: mtype, data: Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + mlen)) });
            }
          }
          off += (mlen + 3) & ~3;
        }
      }
      throw new NetlinkError('EPROTO', `netlink answer longer than ${MAX_DATAGRAMS} datagrams`);
    },
    close() {
      if (fd >= 0) c.close(fd);
      fd = -1;
    },
  };
}
