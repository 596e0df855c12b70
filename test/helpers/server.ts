/**
 * The real server on a spare port, fed by a fixture /proc + /sys tree that tests change under it.
 *
 *   const srv = await startTestServer(t);                 // closes itself (and its files) in t.after
 *   srv.tree.setCounters('eth0', { rxBytes: 1500n });     // traffic happens
 *   await srv.post('/collector/collect');                 // the collector sees it
 *   const { status, body, text } = await srv.get('/api/traffic?time_window_hours=1&group_minutes=60');
 *
 * Bodies are parsed with parseJsonExact: every JSON integer becomes a bigint, so a byte count past 2^53 is
 * compared exactly (JSON.parse would round it to the nearest double). `text` is the raw answer.
 *
 * srv.restart() stops the server (it takes its last poll) and starts a new one on the same database and
 * tree; srv.stop() and srv.startAgain() do the two halves, for traffic while it is down.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LazyCompilers } from '../../src/api/lazy-compilers.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeFixtureTree, type FixtureTree, type FixtureTreeSpec } from './fixture-tree.js';

/** What t (a TestContext) or a suite offers: a place to register cleanup. */
export interface CleanupScope {
  after(fn: () => unknown): void;
}

/**
 * The default machine: loopback, a wired primary (default route, 1 Gbit/s) and a Wi-Fi link, both
 * monitored by discovery on first start; lo is not monitored.
 */
export const DEFAULT_TREE: FixtureTreeSpec = {
  interfaces: {
    lo: { type: 772, virtual: true, flags: 0x9, operstate: 'unknown', speed: null, address: '00:00:00:00:00:00' },
    eth0: { counters: { rxBytes: 1_000_000n, rxPackets: 1000n, txBytes: 500_000n, txPackets: 800n } },
    wlan0: { wireless: true, counters: { rxBytes: 20_000n, rxPackets: 40n, txBytes: 10_000n, txPackets: 30n } },
  },
  defaultRouteV4: ['eth0'],
  bootId: 'b0000000-0000-4000-8000-000000000001',
};

export interface TestServerOptions {
  tree?: FixtureTreeSpec;
  /** Extra NETPULSE_* variables; a value of undefined removes a default. Defaults: NETPULSE_POLL_INTERVAL=3600. */
  env?: Record<string, string | undefined>;
  /** Handed to startServer (tests of what the app compiles, and when). */
  compilers?: LazyCompilers;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The raw body. */
  text: string;
  /** parseJsonExact(text) when the answer is JSON, else undefined. */
  body: any;
}

export interface TestServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly tree: FixtureTree;
  readonly dbPath: string;
  readonly env: Record<string, string | undefined>;
  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** JSON body (stringified) unless raw is given; raw sends the string as is with the given content type. */
  post(path: string, json?: unknown, raw?: { body: string; contentType?: string }): Promise<HttpAnswer>;
  put(path: string, json?: unknown, raw?: { body: string; contentType?: string }): Promise<HttpAnswer>;
  /** POST /collector/collect, asserting it answered 200. */
  collect(): Promise<HttpAnswer>;
  /** Adds to an interface's counters (fields not given stay as they are). */
  advance(name: string, by: Partial<Record<'rxBytes' | 'txBytes' | 'rxPackets' | 'txPackets', bigint>>): void;
  /** Sets an interface's counters (fields not given become 0), remembering them for advance(). */
  setCounters(name: string, counters: Partial<Record<'rxBytes' | 'txBytes' | 'rxPackets' | 'txPackets', bigint>>): void;
  /** Writes a new /proc/sys/kernel/random/boot_id (read once per server start). */
  setBootId(bootId: string): void;
  stop(): Promise<void>;
  startAgain(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

type Counters4 = Record<'rxBytes' | 'txBytes' | 'rxPackets' | 'txPackets', bigint>;

export async function startTestServer(scope: CleanupScope | null, options: TestServerOptions = {}): Promise<TestServer> {
  const spec = options.tree ?? DEFAULT_TREE;
  const tree = makeFixtureTree(spec);
  const dir = mkdtempSync(join(tmpdir(), 'netpulse-server-'));
  const dbPath = join(dir, 'netpulse.db');
  const env: Record<string, string | undefined> = {
    NETPULSE_HOST: '127.0.0.1',
    NETPULSE_PORT: '0',
    NETPULSE_DB_PATH: dbPath,
    NETPULSE_PROC_ROOT: tree.procRoot,
    NETPULSE_SYS_ROOT: tree.sysRoot,
    NETPULSE_LOG_LEVEL: 'silent',
    NETPULSE_TZ: 'UTC',
    // One aligned tick an hour: tests drive polls with POST /collector/collect unless they ask for a timer.
    NETPULSE_POLL_INTERVAL: '3600',
  };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }

  const counters = new Map<string, Counters4>();
  for (const [name, iface] of Object.entries(spec.interfaces)) {
    const c = iface.counters ?? {};
    counters.set(name, {
      rxBytes: BigInt(c.rxBytes ?? 0),
      txBytes: BigInt(c.txBytes ?? 0),
      rxPackets: BigInt(c.rxPackets ?? 0),
      txPackets: BigInt(c.txPackets ?? 0),
    });
  }

  let server: RunningServer | null = null;
  const start = async () => {
    server = await startServer({ env, discoverySampleMs: 20, compilers: options.compilers });
  };
  const running = (): RunningServer => {
    if (server === null) throw new Error('the test server is stopped');
    return server;
  };
  const request = async (method: string, path: string, json: unknown, raw?: { body: string; contentType?: string }, headers: Record<string, string> = {}): Promise<HttpAnswer> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (raw !== undefined) {
      init.body = raw.body;
      if (raw.contentType !== undefined) (init.headers as Record<string, string>)['content-type'] = raw.contentType;
    } else if (json !== undefined) {
      init.body = JSON.stringify(json);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(running().url + path, init);
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
    return { status: res.status, headers: res.headers, text, body: isJson && text !== '' ? parseJsonExact(text) : undefined };
  };

  await start();
  let closed = false;
  const srv: TestServer = {
    get url() {
      return running().url;
    },
    get server() {
      return running();
    },
    tree,
    dbPath,
    env,
    get: (path, headers) => request('GET', path, undefined, undefined, headers),
    post: (path, json, raw) => request('POST', path, json, raw),
    put: (path, json, raw) => request('PUT', path, json, raw),
    async collect() {
      const answer = await request('POST', '/collector/collect', undefined);
      if (answer.status !== 200) throw new Error(`POST /collector/collect answered ${answer.status}: ${answer.text}`);
      return answer;
    },
    advance(name, by) {
      const c = counters.get(name);
      if (c === undefined) throw new Error(`no counters kept for ${name}`);
      for (const k of Object.keys(by) as (keyof Counters4)[]) c[k] += by[k] ?? 0n;
      tree.setCounters(name, { ...c });
    },
    setCounters(name, next) {
      const c: Counters4 = { rxBytes: next.rxBytes ?? 0n, txBytes: next.txBytes ?? 0n, rxPackets: next.rxPackets ?? 0n, txPackets: next.txPackets ?? 0n };
      counters.set(name, c);
      tree.setCounters(name, { ...c });
    },
    setBootId(bootId) {
      writeFileSync(join(tree.procRoot, 'sys', 'kernel', 'random', 'boot_id'), `${bootId}\n`);
    },
    async stop() {
      await server?.close();
      server = null;
    },
    startAgain: start,
    async restart() {
      await srv.stop();
      await start();
    },
    async close() {
      if (closed) return;
      closed = true;
      await srv.stop();
      tree.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  scope?.after(() => srv.close());
  return srv;
}

/**
 * JSON.parse, except that every integer (no fraction, no exponent) becomes a bigint: the only way to see
 * a count past 2^53 as the server wrote it.
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`parseJsonExact: ${what} at ${i} in ${text.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const key = value();
        if (typeof key !== 'string') fail('object key');
        ws();
        if (text[i++] !== ':') fail('":"');
        out[key as string] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return out;
        if (sep !== ',') fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return out;
        if (sep !== ',') fail('"," or "]"');
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (m === null) return fail('string');
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m !== null) {
      i += m[0].length;
      return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail('value');
  };
  const out = value();
  ws();
  if (i !== text.length) fail('end of input');
  return out;
}

/** Calls check until it returns a value other than undefined/false, or throws after deadlineMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 5000, everyMs = 25): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits while the wall clock is within marginMs before a multiple of bucketSec. A sample is stamped with
 * its read time rounded to the second, so for the last half second before a bucket edge it may belong to
 * a bucket /api/traffic does not list yet; tests that sum buckets right after a poll step past that edge.
 */
export async function awayFromBucketEdge(bucketSec: number, marginMs = 1500): Promise<void> {
  await waitFor(`the clock to leave the last ${marginMs} ms of a ${bucketSec} s bucket`, () => {
    const into = Date.now() % (bucketSec * 1000);
    return into < bucketSec * 1000 - marginMs;
  }, marginMs + 1000);
}

/** Sums a field of JSON rows parsed by parseJsonExact (null counts as 0). */
export function sumField(rows: readonly Record<string, unknown>[], field: string): bigint {
  let total = 0n;
  for (const r of rows) {
    const v = r[field];
    if (v !== null && v !== undefined) total += BigInt(v as bigint);
  }
  return total;
}
