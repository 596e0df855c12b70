/** Persists the collector's last raw counters and boot id, so a restart (even after kill -9) carries on. */
import type { CounterState, InterfaceState } from '../collector/deltas.js';
import { COUNTER_COLUMNS, countersToParams, rowToCounters, type CounterColumn } from './counter-columns.js';
import type { Db } from './db.js';

export interface StateRepo {
  load(): CounterState | null;
  save(state: CounterState): void;
}

type StateRow = Record<CounterColumn, string> & { interface_name: string; ifindex: number | null };

export function createStateRepo(db: Db): StateRepo {
  const selectMeta = db.prepare<[], { time_ms: number; boot_id: string | null }>('SELECT time_ms, boot_id FROM collector_state WHERE id = 1');
  const selectRows = db.prepare<[], StateRow>(`SELECT interface_name, ifindex, ${COUNTER_COLUMNS.join(', ')} FROM counter_state`);
  const upsertMeta = db.prepare(
    'INSERT INTO collector_state (id, time_ms, boot_id) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms, boot_id = excluded.boot_id',
  );
  const upsertRow = db.prepare(
    `INSERT INTO counter_state (interface_name, ifindex, ${COUNTER_COLUMNS.join(', ')}) VALUES (?, ?, ${COUNTER_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT(interface_name) DO UPDATE SET ifindex = excluded.ifindex, ${COUNTER_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
  );
  const deleteRow = db.prepare('DELETE FROM counter_state WHERE interface_name = ?');
  const selectNames = db.prepare<[], { interface_name: string }>('SELECT interface_name FROM counter_state');

  return {
    load() {
      const meta = selectMeta.get();
      if (meta === undefined) return null;
      const interfaces = new Map<string, InterfaceState>();
      for (const row of selectRows.all()) {
        interfaces.set(row.interface_name, { ifindex: row.ifindex, counters: rowToCounters(row) });
      }
      return { timeMs: meta.time_ms, bootId: meta.boot_id, interfaces };
    },
    save(state) {
      upsertMeta.run(state.timeMs, state.bootId);
      for (const { interface_name: name } of selectNames.all()) {
        if (!state.interfaces.has(name)) deleteRow.run(name);
      }
      for (const [name, s] of state.interfaces) {
        upsertRow.run(name, s.ifindex, ...countersToParams(s.counters).map((v) => v.toString()));
      }
    },
  };
}
