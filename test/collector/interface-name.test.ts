import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidInterfaceName } from '../../src/collector/interface-name.js';

test('isValidInterfaceName accepts names the kernel accepts', () => {
  for (const name of ['eth0', 'wlp2s0', 'veth1a2b3c4', 'br-1a2b3c4d5e6f', 'lo', 'wg0', 'eth0.100', 'a', 'x'.repeat(15), 'tailscale0']) {
    assert.equal(isValidInterfaceName(name), true, name);
  }
});

test('isValidInterfaceName rejects paths, separators, whitespace and wrong lengths', () => {
  const rejected = ['', '.', '..', '../etc', 'eth0/x', '/', 'eth0:1', 'a b', 'a\tb', 'eth0\n', 'a\0b', 'x'.repeat(16), 'br-1a2b3c4d5e6f0'];
  for (const name of rejected) assert.equal(isValidInterfaceName(name), false, JSON.stringify(name));
});

test('isValidInterfaceName counts UTF-8 bytes, not characters', () => {
  assert.equal(isValidInterfaceName('é'.repeat(7)), true); // 14 bytes
  assert.equal(isValidInterfaceName('é'.repeat(8)), false); // 16 bytes
});

test('isValidInterfaceName rejects the Latin-1 no-break space byte the kernel calls whitespace', () => {
  assert.equal(isValidInterfaceName('a\u00a0b'), false); // UTF-8 C2 A0
  assert.equal(isValidInterfaceName('eth\u2003'), true); // E2 80 83: no kernel space byte
});
