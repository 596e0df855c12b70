/**
 * What the security tests need beyond the in-memory app: the real server on a spare port (in this process,
 * fed by a fixture /proc + /sys tree), an HTTP client that can pick its source address, and a second
 * machine — a network namespace joined to the root namespace by a veth pair — to be a non-loopback client.
 *
 *   const srv = await startSecurityServer(t, { NETPULSE_HOST: '0.0.0.0' });   // closed in t.after
 *   const answer = await httpRequest({ method: 'GET', url: `${srv.url}/api/interfaces` });
 *   const client = await createClientNamespace(t);                          // deleted in t.after
 *   const remote = await client.curl({ method: 'POST', url: `http://${client.serverAddress}:${srv.port}/collector/collect` });
 *
 * The namespace's veth end has 10.201.<x>.2/30, the root end 10.201.<x>.1/30; nothing else is touched.
 * Every wait has a deadline; processes are only ever the `ip`/`curl` children this file starts.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { RunningServer } from '../../src/server.js';
import type { FixtureTree } from './fixture-tree.js';
import { startTestServer, type CleanupScope } from './server.js';

const execFileAsync = promisify(execFile);

export const CURL = '/usr/bin/curl';

export type { CleanupScope } from './server.js';

export interface SecurityServer {
  server: RunningServer;
  tree: FixtureTree;
  dbPath: string;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The real server (startServer) on a free port with a temp database and a fixture tree. Defaults: bound to
 * 127.0.0.1, no token, CORS closed, NETPULSE_POLL_INTERVAL=60; `env` adds or (with undefined) removes variables.
 */
export async function startSecurityServer(scope: CleanupScope, env: Record<string, string | undefined> = {}): Promise<SecurityServer> {
  const t = await startTestServer(scope, { env: { NETPULSE_POLL_INTERVAL: '60', ...env } });
  const address = t.server.app.server.address();
  if (address === null || typeof address !== 'object') throw new Error('the server has no TCP address');
  return {
    server: t.server,
    tree: t.tree,
    dbPath: t.dbPath,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () => t.close(),
  };
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Source address of the connection (any 127.x.y.z works on Linux without configuration). */
  localAddress?: string;
  /** Whole-request deadline; default 10 s. */
  timeoutMs?: number;
  /** An answer of type text/event-stream resolves once its headers are in (text ''), and the connection is dropped. */
  abandonEventStream?: boolean;
  /** Send the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** JSON.parse(text) when the answer says it is JSON and parses; else undefined. */
  json: unknown;
}

/** One HTTP/1.1 request on its own connection (no keep-alive: the source address is then what we chose). */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...req.headers };
    if (req.body !== undefined && !req.chunked && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const r = http.request(req.url, { method: req.method, headers, agent: false, ...(req.localAddress ? { localAddress: req.localAddress } : {}) });
    const timer = setTimeout(() => {
      r.destroy(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    r.on('response', (res) => {
      if (req.abandonEventStream && (res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', json: undefined });
        res.destroy();
        r.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if ((res.headers['content-type'] ?? '').includes('application/json')) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    if (req.body !== undefined && req.chunked) {
      // Two chunks, so the server cannot know the length before it has read past the first.
      const body = Buffer.from(req.body);
      const half = Math.floor(body.length / 2);
      r.write(body.subarray(0, half));
      r.end(body.subarray(half));
    } else {
      if (req.body !== undefined) r.write(req.body);
      r.end();
    }
  });
}

/** null when namespaces can be made here; else why not (the kernel tests' check). */
export { netnsSkipReason as namespaceSkipReason } from './netns.js';

export interface CurlAnswer {
  /** HTTP status; 0 when no answer came (see exitCode). */
  status: number;
  text: string;
  json: unknown;
  /** curl's exit code: 0 ok, 7 could not connect, 28 timed out. */
  exitCode: number;
}

export interface ClientNamespace {
  name: string;
  /** The root namespace's end: the address a client in the namespace reaches the server on. */
  serverAddress: string;
  /** The namespace's own address: what the server sees as the client. */
  clientAddress: string;
  /** curl run inside the namespace. */
  curl(req: { method: string; url: string; headers?: Record<string, string>; body?: string; timeoutSec?: number }): Promise<CurlAnswer>;
}

async function ip(args: string[]): Promise<string> {
  return (await execFileAsync('ip', args, { timeout: 10_000 })).stdout;
}

/** A /30 in 10.201.0.0/16 no address of this machine is in yet, starting from one derived from the PID. */
async function freeSubnet(): Promise<number> {
  const used = await ip(['-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 64; i++) {
    const x = ((process.pid + i * 7) % 250) + 1;
    if (!used.includes(`10.201.${x}.`)) return x;
  }
  throw new Error('no free 10.201.x.0/30 among 64 candidates');
}

/**
 * Namespace np<pid>c, veth np<pid>r (root, 10.201.x.1/30) ↔ np<pid>n (namespace, 10.201.x.2/30), both up.
 * Deleted in scope.after (the veth pair goes with its root end).
 */
export async function createClientNamespace(scope: CleanupScope): Promise<ClientNamespace> {
  const name = `np${process.pid}c`;
  const rootEnd = `np${process.pid}r`;
  const nsEnd = `np${process.pid}n`;
  const x = await freeSubnet();
  const serverAddress = `10.201.${x}.1`;
  const clientAddress = `10.201.${x}.2`;
  const inNs = (args: string[]) => ip(['netns', 'exec', name, 'ip', ...args]);

  scope.after(async () => {
    await ip(['link', 'del', rootEnd]).catch(() => undefined);
    await ip(['netns', 'del', name]).catch(() => undefined);
  });

  await ip(['netns', 'add', name]);
  await inNs(['link', 'set', 'lo', 'up']);
  await ip(['link', 'add', rootEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', name]);
  await ip(['addr', 'add', `${serverAddress}/30`, 'dev', rootEnd]);
  await inNs(['addr', 'add', `${clientAddress}/30`, 'dev', nsEnd]);
  await ip(['link', 'set', rootEnd, 'up']);
  await inNs(['link', 'set', nsEnd, 'up']);

  const curl: ClientNamespace['curl'] = async (req) => {
    const args = ['netns', 'exec', name, CURL, '-s', '-o', '-', '-w', '\n%{http_code}', '-X', req.method, '--max-time', String(req.timeoutSec ?? 10), '--connect-timeout', String(Math.min(5, req.timeoutSec ?? 5))];
    for (const [k, v] of Object.entries(req.headers ?? {})) args.push('-H', `${k}: ${v}`);
    if (req.body !== undefined) args.push('--data-binary', req.body);
    args.push(req.url);
    let stdout: string;
    let exitCode = 0;
    try {
      stdout = (await execFileAsync('ip', args, { timeout: ((req.timeoutSec ?? 10) + 5) * 1000 })).stdout;
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string };
      if (typeof e.code !== 'number') throw err;
      exitCode = e.code;
      stdout = e.stdout ?? '';
    }
    const cut = stdout.lastIndexOf('\n');
    const status = Number(stdout.slice(cut + 1)) || 0;
    const text = cut === -1 ? '' : stdout.slice(0, cut);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status, text, json, exitCode };
  };

  // The pair is usable once the namespace reaches the root end (the veth's carrier comes up asynchronously).
  const deadline = Date.now() + 5000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const state = await inNs(['-o', 'link', 'show', nsEnd]);
    if (/state UP|LOWER_UP/.test(state)) break;
    if (Date.now() > deadline) throw new Error(`${nsEnd} in ${name} did not come up within 5 s: ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, serverAddress, clientAddress, curl };
}

/**
 * Every table of the database, every row, ordered, integers exact (bigint → string): the whole stored state.
 * Read through a separate read-only connection, so the server's own connection is not touched.
 */
export function snapshotDatabase(dbPath: string): Record<string, string> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      const columns = (db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string }[]).map((c) => `"${c.name}"`);
      const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY ${columns.join(', ')}`).safeIntegers(true).all();
      out[name] = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    }
    return out;
  } finally {
    db.close();
  }
}

/** Row counts and byte/packet SUMs of the traffic tables, for a readable report of what changed. */
export function trafficSummary(dbPath: string): Record<string, string> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, string> = {};
    for (const table of ['traffic_data', 'traffic_1m', 'traffic_1h', 'traffic_1d', 'counter_state']) {
      const row = db
        .prepare(`SELECT COUNT(*) AS n, SUM(CAST(rx_bytes AS INTEGER)) AS rx, SUM(CAST(tx_bytes AS INTEGER)) AS tx, SUM(CAST(rx_packets AS INTEGER)) AS rxp, SUM(CAST(tx_packets AS INTEGER)) AS txp FROM ${table}`)
        .safeIntegers(true)
        .get() as Record<string, bigint | null>;
      out[table] = `rows=${row.n} rx=${row.rx} tx=${row.tx} rx_packets=${row.rxp} tx_packets=${row.txp}`;
    }
    return out;
  } finally {
    db.close();
  }
}
