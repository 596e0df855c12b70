import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

test('loadConfig uses the documented defaults when nothing is set', () => {
  const c = loadConfig({}, '/srv/np');
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8000);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.dbPath, '/srv/np/data/netpulse.db');
  assert.equal(c.pollIntervalSecOverride, null);
  assert.equal(c.procRoot, '/proc');
  assert.equal(c.sysRoot, '/sys');
  assert.equal(c.authToken, null);
  assert.deepEqual(c.corsOrigins, []);
});

test('loadConfig reads every variable', () => {
  const c = loadConfig({
    NETPULSE_HOST: '0.0.0.0',
    NETPULSE_PORT: '9000',
    NETPULSE_LOG_LEVEL: 'DEBUG',
    NETPULSE_DB_PATH: '/var/lib/np.db',
    NETPULSE_POLL_INTERVAL: '5',
    NETPULSE_TZ: 'Asia/Kolkata',
    NETPULSE_AUTH_TOKEN: 's3cret',
    NETPULSE_CORS_ORIGINS: 'https://a.example, http://b.example:8080',
    NETPULSE_RETENTION_MINUTE_DAYS: '7',
  });
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 9000);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.dbPath, '/var/lib/np.db');
  assert.equal(c.pollIntervalSecOverride, 5);
  assert.equal(c.timezone, 'Asia/Kolkata');
  assert.equal(c.authToken, 's3cret');
  assert.deepEqual(c.corsOrigins, ['https://a.example', 'http://b.example:8080']);
  assert.equal(c.retention.minuteDays, 7);
});

for (const [name, value, pattern] of [
  ['NETPULSE_POLL_INTERVAL', '0', /NETPULSE_POLL_INTERVAL: 0 is out of range; expected 1–3600/],
  ['NETPULSE_POLL_INTERVAL', '3601', /expected 1–3600/],
  ['NETPULSE_POLL_INTERVAL', '2.5', /not a whole number/],
  ['NETPULSE_PORT', '70000', /NETPULSE_PORT: 70000 is out of range/],
  ['NETPULSE_PORT', 'http', /NETPULSE_PORT: "http" is not a whole number/],
  ['NETPULSE_TZ', 'Mars/Olympus', /NETPULSE_TZ: "Mars\/Olympus" is not an IANA time zone/],
  ['NETPULSE_LOG_LEVEL', 'loud', /NETPULSE_LOG_LEVEL/],
  ['NETPULSE_CORS_ORIGINS', 'https://a.example/path', /NETPULSE_CORS_ORIGINS/],
  ['NETPULSE_HOST', 'a host', /NETPULSE_HOST/],
] as const) {
  test(`loadConfig rejects ${name}=${value} naming the variable and its range`, () => {
    assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, name);
      assert.match(err.message, pattern);
      return true;
    });
  });
}
