/** A real SQLite database in a temp folder with every repo, for storage and collector tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createConfigRepo } from '../../src/storage/config-repo.js';
import { openDatabase } from '../../src/storage/db.js';
import { createRunsRepo } from '../../src/storage/runs-repo.js';
import { createStateRepo } from '../../src/storage/state-repo.js';
import { createTrafficRepo } from '../../src/storage/traffic-repo.js';

export function makeStore(t: TestContext, options: { timezone?: string; dir?: string } = {}) {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-store-'));
  const dbPath = path.join(dir, 'netpulse.db');
  const db = openDatabase(dbPath);
  t.after(() => {
    if (db.open) db.close();
    if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    dbPath,
    db,
    traffic: createTrafficRepo(db, { timezone: options.timezone ?? 'UTC' }),
    runs: createRunsRepo(db),
    state: createStateRepo(db),
    config: createConfigRepo(db),
  };
}
