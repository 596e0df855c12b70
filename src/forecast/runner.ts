/**
 * Runs forecast jobs in one worker thread (started on first use, stopped by close), one message at a time.
 * Under tsx (tests, `npm run dev`) the worker registers tsx's loader before it imports worker.ts. If no
 * worker can be started, the jobs run in this thread instead (and the log says so once).
 */
import { Worker } from 'node:worker_threads';
import { runForecastJobs, type ForecastJob, type ForecastJobReply } from './jobs.js';

export interface ForecastRunner {
  run(jobs: ForecastJob[]): Promise<ForecastJobReply>;
  close(): Promise<void>;
  /** 'worker', 'inline' (no worker could start) or 'idle' (none started yet). */
  mode(): 'worker' | 'inline' | 'idle';
}

function startWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    const url = new URL('./worker.ts', self).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
  }
  return new Worker(new URL('./worker.js', self));
}

export function createForecastRunner(opts: { inline?: boolean; onWorkerError?: (err: Error) => void } = {}): ForecastRunner {
  let worker: Worker | null = null;
  let inline = opts.inline === true;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: ForecastJobReply) => void; reject: (e: Error) => void }>();

  function failAll(err: Error): void {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function ensureWorker(): Worker | null {
    if (inline) return null;
    if (worker !== null) return worker;
    try {
      const w = startWorker();
      w.unref();
      w.on('message', (reply: ForecastJobReply) => {
        const p = pending.get(reply.id);
        pending.delete(reply.id);
        p?.resolve(reply);
      });
      w.on('error', (err) => {
        opts.onWorkerError?.(err);
        failAll(err);
        worker = null;
      });
      w.on('exit', () => {
        if (worker === w) worker = null;
        failAll(new Error('the forecast worker stopped'));
      });
      worker = w;
      return w;
    } catch (err) {
      opts.onWorkerError?.(err as Error);
      inline = true;
      return null;
    }
  }

  return {
    mode: () => (inline ? 'inline' : worker === null ? 'idle' : 'worker'),
    run(jobs) {
      const w = ensureWorker();
      const id = nextId++;
      if (w === null) return Promise.resolve(runForecastJobs({ id, jobs }));
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, jobs }, jobs.map((j) => j.values.buffer as ArrayBuffer));
      });
    },
    async close() {
      const w = worker;
      worker = null;
      if (w !== null) await w.terminate();
      failAll(new Error('the forecast runner was closed'));
    },
  };
}
