/**
 * The real Net-Pulse server on a spare port, reading a fixture /proc + /sys whose counters a traffic
 * generator keeps moving, with a temporary database (optionally seeded with history). Used by the
 * browser tests and by `tsx test/e2e/preview.ts` to look at the dashboard by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../src/server.js';
import { openDatabase } from '../../src/storage/db.js';
import { createRunsRepo } from '../../src/storage/runs-repo.js';
import { createTrafficRepo, type TrafficSample } from '../../src/storage/traffic-repo.js';
import { makeFixtureTree, type FixtureTree } from '../helpers/fixture-tree.js';

export interface Rate {
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

export interface FixtureServer {
  url: string;
  tree: FixtureTree;
  /** Sets an interface's base rate; the generator adds a gentle wave on top so the lines move. */
  setRate(name: string, rate: Rate): void;
  close(): Promise<void>;
}

export interface FixtureServerOptions {
  /** Extra NETPULSE_* settings (e.g. NETPULSE_AUTH_TOKEN). */
  env?: Record<string, string>;
  /** Seed this many days of 5-minute history (with a one-day outage) before the server starts. */
  historyDays?: number;
  /** Keep the database here (reuse across runs); default a fresh temp folder. */
  dataDir?: string;
  port?: number;
}

const BASE_RATES: Record<string, Rate> = {
  eth0: { rxBytesPerSec: 2_400_000, txBytesPerSec: 380_000 },
  wlan0: { rxBytesPerSec: 310_000, txBytesPerSec: 95_000 },
  lo: { rxBytesPerSec: 12_000, txBytesPerSec: 12_000 },
  docker0: { rxBytesPerSec: 0, txBytesPerSec: 0 },
};

const GENERATOR_TICK_MS = 200;

function seedHistory(dbPath: string, days: number, nowMs: number): void {
  const db = openDatabase(dbPath);
  try {
    const traffic = createTrafficRepo(db, { timezone: 'UTC' });
    const runs = createRunsRepo(db);
    const stepSec = 300;
    const endSec = Math.floor(nowMs / 1000 / stepSec) * stepSec - stepSec;
    const startSec = endSec - days * 86_400;
    // The collector was down for a day, a third of the way back: the chart must show a gap there.
    const outageStart = Math.floor((endSec - (days / 3) * 86_400) / 86_400) * 86_400;
    const outageEnd = outageStart + 86_400;
    const zero = { rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
    db.transaction(() => {
      if (days >= 2) {
        runs.end(runs.begin(startSec, outageStart), outageStart);
        runs.end(runs.begin(outageEnd, endSec), endSec);
      } else {
        runs.end(runs.begin(startSec, endSec), endSec);
      }
      const samples: TrafficSample[] = [];
      for (let t = startSec; t < endSec; t += stepSec) {
        if (days >= 2 && t >= outageStart && t < outageEnd) continue;
        const hour = (t / 3600) % 24;
        const daily = 0.35 + 0.65 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) ** 2;
        const weekly = ((t / 86_400) % 7) >= 5 ? 1.4 : 1;
        for (const [name, base] of [['eth0', BASE_RATES.eth0!], ['wlan0', BASE_RATES.wlan0!]] as const) {
          const noise = 0.75 + 0.5 * (((t * 2654435761) >>> 0) / 2 ** 32);
          const rx = BigInt(Math.round(base.rxBytesPerSec * daily * weekly * noise * stepSec));
          const tx = BigInt(Math.round(base.txBytesPerSec * daily * noise * stepSec));
          samples.push({
            interfaceName: name,
            startSec: t,
            endSec: t + stepSec,
            counters: { rxBytes: rx, txBytes: tx, rxPackets: rx / 1200n, txPackets: tx / 900n, ...zero },
          });
        }
      }
      traffic.write(samples);
    })();
  } finally {
    db.close();
  }
}

export async function startFixtureServer(options: FixtureServerOptions = {}): Promise<FixtureServer> {
  const tree = makeFixtureTree({
    interfaces: {
      lo: { type: 772, virtual: true, speed: null, address: '00:00:00:00:00:00', flags: 0x9, operstate: 'unknown' },
      eth0: { speed: 1000, counters: { rxBytes: 8_000_000_000n, txBytes: 1_200_000_000n } },
      wlan0: { wireless: true, speed: null, counters: { rxBytes: 900_000_000n, txBytes: 150_000_000n } },
      docker0: { bridge: true, virtual: true, speed: null, operstate: 'down' },
    },
    defaultRouteV4: ['eth0'],
  });

  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'netpulse-e2e-'));
  const dbPath = path.join(dataDir, 'np.db');
  if (options.historyDays) seedHistory(dbPath, options.historyDays, Date.now());

  // Counters move before the server starts, so first-start discovery sees eth0 as the busy interface.
  const rates = new Map(Object.entries(BASE_RATES).map(([name, rate]) => [name, { ...rate }]));
  const totals = new Map<string, { rx: number; tx: number }>([
    ['lo', { rx: 0, tx: 0 }],
    ['eth0', { rx: 8_000_000_000, tx: 1_200_000_000 }],
    ['wlan0', { rx: 900_000_000, tx: 150_000_000 }],
    ['docker0', { rx: 0, tx: 0 }],
  ]);
  const startedMs = Date.now();
  let lastTickMs = startedMs;
  const tick = (): void => {
    const now = Date.now();
    const seconds = (now - lastTickMs) / 1000;
    lastTickMs = now;
    const wave = 1 + 0.45 * Math.sin((now - startedMs) / 2500);
    for (const [name, total] of totals) {
      const rate = rates.get(name) ?? { rxBytesPerSec: 0, txBytesPerSec: 0 };
      total.rx += Math.round(rate.rxBytesPerSec * wave * seconds);
      total.tx += Math.round(rate.txBytesPerSec * (2 - wave) * seconds);
      tree.setCounters(name, {
        rxBytes: BigInt(total.rx),
        txBytes: BigInt(total.tx),
        rxPackets: BigInt(Math.floor(total.rx / 1200)),
        txPackets: BigInt(Math.floor(total.tx / 900)),
      });
    }
  };
  tick();
  const generator = setInterval(tick, GENERATOR_TICK_MS);

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      env: {
        NETPULSE_HOST: '127.0.0.1',
        NETPULSE_PORT: String(options.port ?? 0),
        NETPULSE_DB_PATH: dbPath,
        NETPULSE_PROC_ROOT: tree.procRoot,
        NETPULSE_SYS_ROOT: tree.sysRoot,
        NETPULSE_POLL_INTERVAL: '1',
        NETPULSE_TZ: 'UTC',
        NETPULSE_LOG_LEVEL: 'warn',
        ...options.env,
      },
      discoverySampleMs: 400,
    });
  } catch (err) {
    clearInterval(generator);
    tree.cleanup();
    throw err;
  }

  return {
    url: server.url,
    tree,
    setRate(name, rate) {
      rates.set(name, { ...rate });
    },
    async close() {
      clearInterval(generator);
      await server.close();
      tree.cleanup();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
