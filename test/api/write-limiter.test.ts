import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientKey, createWriteLimiter } from '../../src/api/write-limiter.js';

describe('clientKey', () => {
  test('an IPv4 address is its own client', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey(' 192.0.2.7 '), '192.0.2.7');
  });

  test('IPv6 addresses of one /64 are one client, whatever their spelling', () => {
    const key = clientKey('2001:db8:0:1::5');
    assert.equal(key, '2001:db8:0:1::/64');
    assert.equal(clientKey('2001:0DB8:0000:0001:ffff:1:2:3'), key);
    assert.equal(clientKey('2001:db8:0:1:a:b:c:d%eth0'), key);
    assert.notEqual(clientKey('2001:db8:0:2::5'), key);
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1'), 'fe80:0:0:0::/64');
  });

  test('an IPv4-mapped IPv6 address is the IPv4 client', () => {
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:c000:207'), '192.0.2.7');
  });

  test('no address is one client of its own', () => {
    assert.equal(clientKey(undefined), 'unknown');
  });
});

describe('createWriteLimiter', () => {
  test('allows max writes per window, then refuses until the window ends', () => {
    let nowMs = 1_000_000;
    const limiter = createWriteLimiter({ max: 2, timeWindowMs: 60_000 }, () => nowMs);
    assert.equal(limiter.hit('192.0.2.1').allowed, true);
    nowMs += 10_000;
    assert.equal(limiter.hit('192.0.2.1').allowed, true);
    const refused = limiter.hit('192.0.2.1');
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSec, 50);
    assert.equal(limiter.hit('192.0.2.2').allowed, true, 'another client has its own budget');
    nowMs += 49_999;
    assert.equal(limiter.hit('192.0.2.1').allowed, false);
    assert.equal(limiter.hit('192.0.2.1').retryAfterSec, 1, 'never less than a second');
    nowMs += 1;
    assert.equal(limiter.hit('192.0.2.1').allowed, true, 'a new window');
  });

  test('keeps at most maxClients windows, dropping ended ones first, then the oldest', () => {
    let nowMs = 0;
    const limiter = createWriteLimiter({ max: 1, timeWindowMs: 1_000 }, () => nowMs, 3);
    limiter.hit('10.0.0.1');
    nowMs = 500;
    limiter.hit('10.0.0.2');
    limiter.hit('10.0.0.3');
    assert.equal(limiter.size(), 3);
    nowMs = 1_200; // 10.0.0.1's window has ended
    limiter.hit('10.0.0.4');
    assert.equal(limiter.size(), 3);
    assert.equal(limiter.hit('10.0.0.2').allowed, false, 'a running window is kept while an ended one can go');
    limiter.hit('10.0.0.5'); // all running: the oldest (10.0.0.2) goes
    assert.equal(limiter.size(), 3);
    assert.equal(limiter.hit('10.0.0.3').allowed, false);
    assert.equal(limiter.hit('10.0.0.2').allowed, true, 'its window was dropped, so it starts again');
  });
});
