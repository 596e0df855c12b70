import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, isValidTimeZone, loadConfig } from '../../src/config/config.js';
import { zoneinfoAt } from '../../src/config/zoneinfo.js';

const SYSTEM = '/usr/share/zoneinfo';
const NO_ZONEINFO = fs.existsSync(path.join(SYSTEM, 'Europe/Berlin')) ? null : 'no /usr/share/zoneinfo (Debian package tzdata)';
const at = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h) / 1000;

describe('zones from a zoneinfo tree', { skip: NO_ZONEINFO ?? false }, () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-zoneinfo-'));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** A tree of our own: Europe/Berlin copied from the system, and a file that is not TZif. */
  const tree = path.join(scratch, 'zoneinfo');
  fs.mkdirSync(path.join(tree, 'Europe'), { recursive: true });
  fs.copyFileSync(path.join(SYSTEM, 'Europe/Berlin'), path.join(tree, 'Europe/Berlin'));
  fs.writeFileSync(path.join(tree, 'Europe/Broken'), 'TZif but not really');

  it('reads a zone of the tree and gives its offsets; a missing or unreadable one is null', () => {
    const z = zoneinfoAt(tree);
    const berlin = z.rules('Europe/Berlin');
    assert.ok(berlin);
    assert.equal(berlin(at(2024, 1, 15)), 3600);
    assert.equal(berlin(at(2024, 7, 15)), 7200);
    assert.equal(z.rules('Europe/Paris'), null, 'not in this tree');
    assert.equal(z.rules('Europe/Broken'), null, 'not a TZif file');
    assert.equal(zoneinfoAt(tree), z, 'one instance per tree');
  });

  it('never reads outside the tree or a file that is not a zone', () => {
    const z = zoneinfoAt(SYSTEM);
    for (const name of ['../zoneinfo/Europe/Berlin', 'Europe/../Europe/Berlin', '/usr/share/zoneinfo/Europe/Berlin', 'posixrules', 'localtime', 'Factory', 'right/Europe/Berlin', 'posix/Europe/Berlin', 'europe/berlin', 'Europe/Berlin/', '']) {
      assert.equal(z.rules(name), null, name);
    }
    assert.ok(z.rules('America/Argentina/Buenos_Aires'));
    assert.ok(z.rules('Etc/GMT+5'));
    assert.equal(z.rules('Etc/GMT+5')!(at(2024, 1, 1)), -5 * 3600);
  });

  it("finds the machine's zone from TZ, the /etc/localtime link or /etc/timezone, and calls UTC's aliases UTC", () => {
    const z = zoneinfoAt(SYSTEM);
    const etc = path.join(scratch, 'etc');
    fs.mkdirSync(etc);
    assert.equal(z.localZone({ TZ: ':Europe/Berlin' }, etc), 'Europe/Berlin');
    assert.equal(z.localZone({ TZ: 'Asia/Kolkata' }, etc), 'Asia/Kolkata');
    assert.equal(z.localZone({ TZ: '/usr/share/zoneinfo/America/New_York' }, etc), 'America/New_York');
    assert.equal(z.localZone({ TZ: 'CET-1CEST,M3.5.0,M10.5.0/3' }, etc), null, 'a POSIX rule string is left to Intl');
    assert.equal(z.localZone({}, etc), null, 'no /etc/localtime, no /etc/timezone');
    fs.symlinkSync('../usr/share/zoneinfo/Etc/UTC', path.join(etc, 'localtime'));
    assert.equal(z.localZone({}, etc), 'UTC');
    fs.rmSync(path.join(etc, 'localtime'));
    fs.symlinkSync('/usr/share/zoneinfo/Australia/Lord_Howe', path.join(etc, 'localtime'));
    assert.equal(z.localZone({}, etc), 'Australia/Lord_Howe');
    fs.rmSync(path.join(etc, 'localtime'));
    fs.writeFileSync(path.join(etc, 'timezone'), 'Europe/Berlin\n');
    assert.equal(z.localZone({}, etc), 'Europe/Berlin', 'no /etc/localtime: /etc/timezone names it');
    fs.copyFileSync(path.join(SYSTEM, 'Europe/Berlin'), path.join(etc, 'localtime'));
    assert.equal(z.localZone({}, etc), 'Europe/Berlin', 'a copied /etc/localtime that /etc/timezone names');
    // A container's own /etc/timezone under the host's mounted /etc/localtime: not trusted, Intl decides.
    fs.writeFileSync(path.join(etc, 'timezone'), 'Etc/UTC\n');
    assert.equal(z.localZone({}, etc), null);
    fs.copyFileSync(path.join(SYSTEM, 'Etc/UTC'), path.join(etc, 'localtime'));
    assert.equal(z.localZone({}, etc), 'UTC');
  });
});

describe('NETPULSE_TZ', () => {
  const base = { NETPULSE_DB_PATH: path.join(os.tmpdir(), 'netpulse-tz-test.db') };

  it('takes a zone of the zoneinfo tree, and one Intl knows when the tree lacks it (TZDIR empty)', { skip: NO_ZONEINFO ?? false }, () => {
    assert.equal(loadConfig({ ...base, NETPULSE_TZ: 'Europe/Berlin' }).timezone, 'Europe/Berlin');
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-tzdir-'));
    try {
      assert.equal(loadConfig({ ...base, TZDIR: empty, NETPULSE_TZ: 'Asia/Kolkata' }).timezone, 'Asia/Kolkata');
      assert.equal(isValidTimeZone('Asia/Kolkata', { TZDIR: empty }), true);
      assert.equal(isValidTimeZone('Mars/Olympus_Mons', { TZDIR: empty }), false);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a name that is no zone, naming the variable', () => {
    assert.throws(
      () => loadConfig({ ...base, NETPULSE_TZ: 'Mars/Olympus_Mons' }),
      (err) => err instanceof ConfigError && /NETPULSE_TZ/.test(err.message) && /not an IANA time zone/.test(err.message),
    );
    assert.throws(() => loadConfig({ ...base, NETPULSE_TZ: '../../etc/passwd' }), ConfigError);
  });

  it('defaults to the zone TZ names', { skip: NO_ZONEINFO ?? false }, () => {
    assert.equal(loadConfig({ ...base, TZ: ':Pacific/Chatham' }).timezone, 'Pacific/Chatham');
  });
});
