/**
 * Issue #13: a running server never asks ICU anything. Intl's first use with a time zone maps ≈ 8 MiB of ICU
 * data and localeCompare's ≈ 3 MiB; calendar days come from the system's zoneinfo files and names sort by
 * code unit instead. Every Intl entry point and locale-sensitive method is wrapped here to record its callers
 * while a server starts, polls and answers the dashboard's requests.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestServer } from '../helpers/server.js';

const calls: string[] = [];
const restore: (() => void)[] = [];

function trap<T extends object>(owner: T, key: keyof T & string, label: string): void {
  const original = owner[key] as unknown;
  if (typeof original !== 'function') return;
  const fn = original as (...args: unknown[]) => unknown;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    calls.push(`${label}\n${new Error().stack?.split('\n').slice(2, 8).join('\n')}`);
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  };
  Object.defineProperty(owner, key, { value: wrapped, configurable: true, writable: true });
  restore.push(() => Object.defineProperty(owner, key, { value: original, configurable: true, writable: true }));
}

function trapIcu(): void {
  for (const name of ['DateTimeFormat', 'Collator', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'ListFormat', 'Segmenter', 'DisplayNames', 'Locale', 'supportedValuesOf'] as const) {
    trap(Intl, name, `Intl.${name}`);
  }
  trap(String.prototype, 'localeCompare', 'String.prototype.localeCompare');
  trap(String.prototype, 'toLocaleLowerCase', 'String.prototype.toLocaleLowerCase');
  trap(String.prototype, 'toLocaleUpperCase', 'String.prototype.toLocaleUpperCase');
  trap(String.prototype, 'normalize', 'String.prototype.normalize');
  trap(Number.prototype, 'toLocaleString', 'Number.prototype.toLocaleString');
  trap(BigInt.prototype, 'toLocaleString', 'BigInt.prototype.toLocaleString');
  trap(Array.prototype, 'toLocaleString', 'Array.prototype.toLocaleString');
  for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString', 'toString', 'toDateString', 'toTimeString', 'getTimezoneOffset'] as const) {
    trap(Date.prototype, name, `Date.prototype.${name}`);
  }
}

const NO_ZONEINFO = fs.existsSync('/usr/share/zoneinfo/Europe/Berlin') ? null : 'no /usr/share/zoneinfo (Debian package tzdata)';

/** What the dashboard and the CLI ask of a running server, in a zone with daylight time. */
const REQUESTS = [
  '/api/interfaces',
  '/api/interfaces/eth0/stats',
  '/api/traffic?time_window_hours=24&group_minutes=5',
  '/api/traffic?time_window_hours=720&group_minutes=1440',
  '/api/traffic?time_window_hours=8760&group_minutes=1440&interface=eth0',
  '/api/traffic/summary?hours=720',
  '/api/usage?period=day',
  '/api/usage?period=month',
  '/api/usage?period=year',
  '/api/config/data-cap',
  '/collector/status',
  '/api/system/metrics',
  '/metrics',
];

describe('a running server and ICU', { skip: NO_ZONEINFO ?? false }, () => {
  before(trapIcu);
  after(() => {
    for (const undo of restore.splice(0)) undo();
  });

  for (const [label, env] of [
    ['NETPULSE_TZ=Europe/Berlin', { NETPULSE_TZ: 'Europe/Berlin' }],
    ['the machine zone (NETPULSE_TZ unset, TZ=:America/New_York)', { NETPULSE_TZ: undefined, TZ: ':America/New_York' }],
  ] as const) {
    it(`never calls Intl or a locale-sensitive method: start, polls and the dashboard's requests (${label})`, async (t) => {
      calls.length = 0;
      const srv = await startTestServer(t, { env });
      for (let i = 0; i < 3; i++) {
        srv.advance('eth0', { rxBytes: 1_000_000n, txBytes: 20_000n, rxPackets: 700n, txPackets: 300n });
        await srv.collect();
      }
      for (const path of REQUESTS) {
        const answer = await srv.get(path);
        assert.equal(answer.status, 200, `${path}: ${answer.text.slice(0, 200)}`);
      }
      if (env.TZ !== undefined) assert.equal(srv.server.config.timezone, 'America/New_York', 'the zone TZ names, read from the zoneinfo tree');
      await srv.close();
      assert.deepEqual(calls, [], `ICU was asked:\n${calls.join('\n---\n')}`);
    });
  }

  it('the trap sees a call (so the silence above means something)', () => {
    calls.length = 0;
    ['b', 'a'].sort((a, b) => a.localeCompare(b));
    new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' });
    assert.equal(calls.length, 2);
    calls.length = 0;
  });
});
