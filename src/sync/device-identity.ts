/**
 * This instance's identity in the all-devices view: a device id generated once (a random UUID) and kept in
 * the database, so it survives restarts and renames; and a name (NETPULSE_DEVICE_NAME, else the host name),
 * stored again whenever it changes.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.js';

export interface DeviceIdentity {
  deviceId: string;
  name: string;
  /** The zone this device's calendar days are counted in (NETPULSE_TZ). */
  timezone: string;
}

export function loadDeviceIdentity(db: Db, options: { name: string; timezone: string; nowSec: number }): DeviceIdentity {
  const select = db.prepare<[], { device_id: string; name: string }>('SELECT device_id, name FROM device_identity WHERE id = 1');
  let row = select.get();
  if (row === undefined) {
    db.prepare('INSERT INTO device_identity (id, device_id, name, created_at) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO NOTHING').run(randomUUID(), options.name, options.nowSec);
    row = select.get()!;
  } else if (row.name !== options.name) {
    db.prepare('UPDATE device_identity SET name = ? WHERE id = 1').run(options.name);
  }
  return { deviceId: row.device_id, name: options.name, timezone: options.timezone };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isDeviceId(text: string): boolean {
  return UUID.test(text);
}
