/** Persists the collector's last raw counters and boot id, so a restart (even after kill -9) carries on. */
import type { CounterState, InterfaceState } from '../collector/deltas.js';
import type { RawCounters } from '../collector/counter-source.js';
import { COUNTER_COLUMNS, rowToCounters, type CounterColumn } from './counter-columns.js';
import type { Db } from './db.js';

export interface StateRepo {
  load(): CounterState | null;
  /**
   * Writes the state: the meta row, every interface's row that differs from what the database is known to
   * hold, and the deletion of rows of names the state no longer has. Meant to run inside the caller's
   * transaction. The database is known after load() and after a save whose transaction the caller reported
   * committed (markCommitted); otherwise (first save, or the last save's transaction may have rolled back)
   * every row is written. The state (its map, InterfaceState and RawCounters objects) must not be modified
   * afterwards: the next save compares with it.
   */
  save(state: CounterState): void;
  /** The transaction of the last save committed: its rows are what the database holds now. */
  markCommitted(): void;
}

type StateRow = Record<CounterColumn, string> & { interface_name: string; ifindex: number | null };

function sameCounters(a: RawCounters, b: RawCounters): boolean {
  return (
    a === b ||
    (a.rxBytes === b.rxBytes &&
      a.txBytes === b.txBytes &&
      a.rxPackets === b.rxPackets &&
      a.txPackets === b.txPackets &&
      a.rxErrors === b.rxErrors &&
      a.txErrors === b.txErrors &&
      a.rxDrops === b.rxDrops &&
      a.txDrops === b.txDrops)
  );
}

function sameState(a: InterfaceState, b: InterfaceState): boolean {
  return a === b || (a.ifindex === b.ifindex && sameCounters(a.counters, b.counters));
}

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

  /** The rows the database holds, when known (after load, or a save marked committed); null: unknown. */
  let committed: Map<string, InterfaceState> | null = null;
  /** The rows the last save left, until its transaction is marked committed. */
  let pending: Map<string, InterfaceState> | null = null;

  function writeRow(name: string, s: InterfaceState): void {
    const c = s.counters;
    // Text, in COUNTER_COLUMNS order: the counters run up to 2^64 - 1, past SQLite's integers.
    upsertRow.run(name, s.ifindex, c.rxBytes.toString(), c.txBytes.toString(), c.rxPackets.toString(), c.txPackets.toString(), c.rxErrors.toString(), c.txErrors.toString(), c.rxDrops.toString(), c.txDrops.toString());
  }

  return {
    load() {
      pending = null;
      const interfaces = new Map<string, InterfaceState>();
      for (const row of selectRows.all()) {
        interfaces.set(row.interface_name, { ifindex: row.ifindex, counters: rowToCounters(row) });
      }
      committed = new Map(interfaces);
      const meta = selectMeta.get();
      if (meta === undefined) return null;
      return { timeMs: meta.time_ms, bootId: meta.boot_id, interfaces };
    },
    save(state) {
      const known = committed;
      committed = null;
      pending = null;
      upsertMeta.run(state.timeMs, state.bootId);
      if (known === null) {
        for (const { interface_name: name } of selectNames.all()) {
          if (!state.interfaces.has(name)) deleteRow.run(name);
        }
        for (const [name, s] of state.interfaces) writeRow(name, s);
      } else {
        for (const name of known.keys()) {
          if (!state.interfaces.has(name)) deleteRow.run(name);
        }
        for (const [name, s] of state.interfaces) {
          const saved = known.get(name);
          if (saved === undefined || !sameState(saved, s)) writeRow(name, s);
        }
      }
      pending = new Map(state.interfaces);
    },
    markCommitted() {
      if (pending !== null) committed = pending;
      pending = null;
    },
  };
}
