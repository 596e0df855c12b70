/**
 * Ingest rate of TrafficRepo.write: samples of 24 interfaces at 1 s, written in transactions of N samples.
 * Every sample is one traffic_data row plus one upsert into each of traffic_1m, traffic_1h and traffic_1d.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/storage/db.js';
import { createTrafficRepo, type TrafficSample } from '../src/storage/traffic-repo.js';
import { INTERFACE_NAMES } from './lib/fixture24.js';
import { log, prng } from './lib/measure.js';

export interface IngestRow {
  samplesPerTransaction: number;
  samples: number;
  seconds: number;
  cpuSeconds: number;
  samplesPerSec: number;
}

export async function benchIngest(options: { samplesPerBatchSize: number }): Promise<IngestRow[]> {
  const random = prng(11);
  const rows: IngestRow[] = [];
  for (const batch of [1, 24, 240, 2400, 24_000]) {
    // One sample per transaction is slow (a commit each): a third as many keeps the bench short.
    const wanted = batch === 1 ? Math.floor(options.samplesPerBatchSize / 3) : options.samplesPerBatchSize;
    const total = Math.max(batch, Math.floor(wanted / batch) * batch);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-bench-ingest-'));
    const db = openDatabase(path.join(dir, 'netpulse.db'));
    try {
      const traffic = createTrafficRepo(db, { timezone: 'UTC' });
      const write = db.transaction((samples: TrafficSample[]) => traffic.write(samples));
      // Samples in collector order: every interface for second t, then t + 1, …
      let t = Math.floor(Date.UTC(2026, 0, 1) / 1000);
      let k = 0;
      const next = (): TrafficSample => {
        const name = INTERFACE_NAMES[k % INTERFACE_NAMES.length]!;
        if (++k % INTERFACE_NAMES.length === 0) t++;
        const rx = BigInt(Math.floor(random() * 5_000_000));
        return {
          interfaceName: name,
          startSec: t - 1,
          endSec: t,
          counters: { rxBytes: rx, txBytes: rx / 3n, rxPackets: rx / 900n, txPackets: rx / 2000n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n },
        };
      };
      const batches: TrafficSample[][] = [];
      for (let done = 0; done < total; done += batch) batches.push(Array.from({ length: batch }, next));
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const b of batches) write(b);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(c0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      rows.push({ samplesPerTransaction: batch, samples: total, seconds, cpuSeconds, samplesPerSec: total / seconds });
      log(`ingest: ${batch} samples/transaction → ${Math.round(total / seconds)} samples/s`);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
