/** Opens the SQLite file: WAL mode, versioned migrations, one handle for the whole process. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;
/** A prepared statement with loosely typed parameters (the repos type their own results). */
export type Stmt = Database.Statement<unknown[], unknown>;

/**
 * SQLite's page cache, in KiB (issue #13). better-sqlite3 builds SQLite with 16 MB, which a long-running server
 * fills as the file grows (writes, pruning, exports, charts over a year): 17 MB more RSS after scans of a year's
 * tables against 3 MB at this size. Pages it does not keep are read again from the kernel's page cache;
 * charts answer from the series cache (series-cache.ts) for the buckets they have seen.
 */
export const PAGE_CACHE_KIB = 2048;

export class DatabaseOpenError extends Error {
  constructor(
    readonly dbPath: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot open the database at ${dbPath}: ${reason}`);
    this.name = 'DatabaseOpenError';
  }
}

export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  // Versions are reserved per feature, so the list has gaps (1, 2, 3, 7, …) and a database may have a later one
  // applied before an earlier one was merged: every migration not yet recorded is applied, in list order.
  const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const current = Math.max(0, ...done);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (current > known) {
    throw new Error(`the database schema is version ${current}, newer than this Net-Pulse knows (${known}); upgrade Net-Pulse`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  let applied = 0;
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
    })();
    applied++;
  }
  return applied;
}

/** Opens (creating if needed) the database at dbPath, or ':memory:'. Throws DatabaseOpenError. */
export function openDatabase(dbPath: string): Db {
  let db: Db | undefined;
  try {
    if (dbPath !== ':memory:') fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    db = new Database(dbPath);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    throw new DatabaseOpenError(dbPath, err);
  }
}
