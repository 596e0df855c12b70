/**
 * Issue #9: the netlink set reader against the real kernel. In a namespace of its own (np9c-<pid>-…), the
 * netpulse table is filled by loopback datagrams to IPv4 and IPv6 addresses of several shapes; the netlink
 * reader must return exactly the elements and counters parseTableListing(libnftables) lists, with the same
 * address text (so the hosts state keys do not change between the two readers). Root only; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/netns.js';

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root';
  for (const tool of ['ip', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not found`;
    }
  }
  return null;
}

interface Elem {
  set: string;
  address: string;
  bytes: string;
  packets: string;
  expiresSec: number | null;
}

const V4 = ['127.0.0.1', '10.1.2.3', '192.168.77.200'];
const V6 = ['::1', '2001:db8::1', '2001:db8::1:0:0:1', '2001:db8:aa:bb:cc:dd:ee:ff', '2001:db8:0:1::1', 'fd00:1:0:2::'];

test('the netlink reader returns the same elements and counters as libnftables', { skip: skipReason() ?? false }, () => {
  const ns = `np9c-${process.pid}-nl`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    ip('link', 'set', 'lo', 'up');
    for (const a of V4) if (a !== '127.0.0.1') ip('addr', 'add', `${a}/32`, 'dev', 'lo');
    for (const a of V6) if (a !== '::1') ip('addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad');
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/helpers/nft-sets-child.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NP9C_V4: V4.join(','), NP9C_V6: V6.join(',') },
      timeout: 60_000,
    }).toString();
    type Reading = { handle: number; elements: Elem[] } | null;
    const got = JSON.parse(out) as { netlink: Reading; again: Reading; afterDelete: Reading; libnftables: Reading };
    assert.ok(got.netlink !== null && got.libnftables !== null);
    assert.equal(got.netlink.handle, got.libnftables.handle);
    const key = (e: Elem) => `${e.set} ${e.address}`;
    const strip = (es: Elem[]) => es.map(({ expiresSec: _, ...e }) => e).sort((a, b) => (key(a as Elem) < key(b as Elem) ? -1 : 1));
    // Every address sent to (rx4/rx6 by destination, tx4 by source), none missing, none extra.
    assert.equal(got.libnftables.elements.filter((e) => e.set === 'rx6').length, V6.length);
    assert.equal(got.libnftables.elements.filter((e) => e.set === 'rx4').length, V4.length);
    assert.deepEqual(strip(got.netlink.elements), strip(got.libnftables.elements));
    for (const e of got.netlink.elements) assert.ok(e.expiresSec !== null && e.expiresSec > 0, key(e));
    // The socket answers a second read the same (nothing left over from the first), and a deleted table is null.
    assert.ok(got.again !== null);
    assert.equal(got.again.handle, got.netlink.handle);
    assert.deepEqual(strip(got.again.elements), strip(got.netlink.elements));
    assert.equal(got.afterDelete, null);
  } finally {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
});
