/** The seed's `configuration` table: typed getters and setters over (key, value) rows of JSON. */
import type { Db } from './db.js';

export interface ConfigRepo {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

export function createConfigRepo(db: Db): ConfigRepo {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM configuration WHERE key = ?');
  const upsert = db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const remove = db.prepare('DELETE FROM configuration WHERE key = ?');
  return {
    get<T>(key: string): T | undefined {
      const row = select.get(key);
      return row === undefined ? undefined : (JSON.parse(row.value) as T);
    },
    set(key, value) {
      upsert.run(key, JSON.stringify(value));
    },
    delete(key) {
      remove.run(key);
    },
  };
}

/** Keys of the configuration table. */
export const CONFIG_KEYS = {
  monitoredInterfaces: 'monitored_interfaces',
  collectionIntervalSec: 'collection_interval_seconds',
  primaryInterface: 'primary_interface',
  rollupTimezone: 'rollup_timezone',
} as const;
