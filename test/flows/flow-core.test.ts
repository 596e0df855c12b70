import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import Database from 'better-sqlite3';
import { DEFAULT_CATEGORY_TABLE, createClassifier, validateCategoryTable } from '../../src/flows/categories.js';
import { createCidrMatcher } from '../../src/flows/cidr.js';
import { encodeCtMessage, ipBytes, ipText, markUpdateRequest, parseCtMessage, type CtEntry } from '../../src/flows/conntrack-codec.js';
import { DnsCache, parseDnsAnswers } from '../../src/flows/dns.js';
import { FlowTable } from '../../src/flows/flow-aggregate.js';
import { createFlowHistoryRepo } from '../../src/flows/flow-history-repo.js';
import { parseAttrs } from '../../src/shared/netlink-attrs.js';
import { migrate } from '../../src/storage/db.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

function entry(id: number, p: Partial<CtEntry> & { sport?: number; dport?: number; dst?: string } = {}): CtEntry {
  const orig = { family: 4 as const, protoNum: 6, src: '10.0.0.5', dst: p.dst ?? '93.184.216.34', srcPort: p.sport ?? 40000 + id, dstPort: p.dport ?? 443 };
  return { id, orig, reply: { ...orig, src: orig.dst, dst: orig.src, srcPort: orig.dstPort, dstPort: orig.srcPort }, origPackets: 10n, origBytes: 1000n, replyPackets: 8n, replyBytes: 5000n, mark: 0, zone: 0, startNs: null, stopNs: null, ...p };
}

test('parseCtMessage reads back what encodeCtMessage wrote, IPv4 and IPv6', () => {
  const v4 = entry(7, { origBytes: 2n ** 40n + 3n, mark: 0x0300_00ff, startNs: 1_700_000_000_123_000_000n });
  assert.deepEqual(parseCtMessage(encodeCtMessage(v4)), v4);
  const v6o = { family: 6 as const, protoNum: 17, src: 'fd00::5', dst: '2001:db8::1:0:0:1', srcPort: 5353, dstPort: 443 };
  const v6 = entry(8, { orig: v6o, reply: { ...v6o, src: v6o.dst, dst: v6o.src, srcPort: 443, dstPort: 5353 } });
  assert.deepEqual(parseCtMessage(encodeCtMessage(v6)), v6);
});

test('ipText writes IPv6 in RFC 5952 form and ipBytes reads it back', () => {
  for (const a of ['::', '::1', 'fe80::1', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '1:2:3:4:5:6:7:8']) assert.equal(ipText(ipBytes(a)), a);
  assert.equal(ipText(ipBytes('::ffff:10.0.0.1')), '::ffff:a00:1');
});

test('markUpdateRequest carries the tuple, the masked mark and the mask', () => {
  const req = markUpdateRequest(entry(1).orig, 0x03ffffff, 0xff000000);
  assert.equal(req[0], 2); // AF_INET
  const a = parseAttrs(req.subarray(4));
  assert.equal(a.get(8)!.readUInt32BE(0), 0x03000000, 'only the masked bits are sent');
  assert.equal(a.get(21)!.readUInt32BE(0), 0xff000000);
  assert.ok(a.has(1), 'CTA_TUPLE_ORIG');
});

test('parseDnsAnswers maps each A/AAAA answer to the asked name, through a CNAME chain', () => {
  const answer = dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'www.YouTube.com' }],
    answers: [
      { type: 'CNAME', name: 'www.youtube.com', ttl: 60, data: 'youtube-ui.l.google.com' },
      { type: 'A', name: 'youtube-ui.l.google.com', ttl: 30, data: '142.250.1.1' },
      { type: 'AAAA', name: 'youtube-ui.l.google.com', ttl: 30, data: '2a00:1450::1' },
    ],
  });
  assert.deepEqual(parseDnsAnswers(answer), [
    { address: '142.250.1.1', name: 'www.youtube.com', ttlSec: 30 },
    { address: '2a00:1450::1', name: 'www.youtube.com', ttlSec: 30 },
  ]);
  assert.deepEqual(parseDnsAnswers(dnsPacket.encode({ type: 'query', id: 2, questions: [{ type: 'A', name: 'x.example' }] })), []);
  assert.deepEqual(parseDnsAnswers(Buffer.from([1, 2, 3])), []);
});

test('DnsCache forgets a name after its TTL (at least the minimum) and keeps a bounded number', () => {
  const c = new DnsCache(2, 10);
  c.add({ address: '1.1.1.1', name: 'a.example', ttlSec: 1 }, 0);
  assert.equal(c.lookup('1.1.1.1', 9_000), 'a.example');
  assert.equal(c.lookup('1.1.1.1', 11_000), null);
  c.add({ address: '1.1.1.2', name: 'b', ttlSec: 100 }, 0);
  c.add({ address: '1.1.1.3', name: 'c', ttlSec: 100 }, 0);
  c.add({ address: '1.1.1.4', name: 'd', ttlSec: 100 }, 0);
  assert.equal(c.size, 2);
  assert.equal(c.lookup('1.1.1.2', 0), null);
});

test('the classifier prefers the longest domain suffix, then ports, then web/unknown for 443', () => {
  const c = createClassifier({ domains: [...DEFAULT_CATEGORY_TABLE.domains, { suffix: 'music.youtube.com', category: 'other' }], ports: DEFAULT_CATEGORY_TABLE.ports });
  assert.equal(c.classify({ protocol: 'tcp', dstPort: 443, domain: 'rr3---sn-npq.googlevideo.com' }), 'video');
  assert.equal(c.classify({ protocol: 'tcp', dstPort: 443, domain: 'music.youtube.com' }), 'other');
  assert.equal(c.classify({ protocol: 'udp', dstPort: 3479, domain: null }), 'voice');
  assert.equal(c.classify({ protocol: 'tcp', dstPort: 443, domain: 'news.example.org' }), 'web');
  assert.equal(c.classify({ protocol: 'tcp', dstPort: 443, domain: null }), 'unknown');
  assert.equal(c.classify({ protocol: 'udp', dstPort: 9999, domain: null }), 'other');
  assert.equal(c.classify({ protocol: 'tcp', dstPort: 443, domain: 'notyoutube.com' }), 'web', 'a suffix matches whole labels only');
  assert.equal(c.classify({ protocol: 'udp', dstPort: 53, domain: 'zoom.us', domainFromAddress: true }), 'background', 'a port rule beats a name known only from DNS');
  assert.equal(c.classify({ protocol: 'udp', dstPort: 53, domain: 'zoom.us' }), 'voice', 'the flow\'s own name wins');
});

test('validateCategoryTable names bad suffixes, duplicates and port ranges', () => {
  assert.deepEqual(validateCategoryTable(DEFAULT_CATEGORY_TABLE), []);
  const problems = validateCategoryTable({ domains: [{ suffix: 'a b', category: 'web' }, { suffix: 'x.com', category: 'web' }, { suffix: 'X.com.', category: 'video' }], ports: [{ protocol: 'udp', port: 10, portEnd: 5, category: 'voice' }] });
  assert.equal(problems.length, 3, problems.join('\n'));
});

test('createCidrMatcher matches v4 and v6 prefixes, not neighbours', () => {
  const isLan = createCidrMatcher(['10.0.0.0/8', '172.16.0.0/12', 'fc00::/7', '192.168.1.7']);
  assert.equal(isLan('10.255.1.1'), true);
  assert.equal(isLan('172.31.255.255'), true);
  assert.equal(isLan('172.32.0.1'), false);
  assert.equal(isLan('fd12::1'), true);
  assert.equal(isLan('fe80::1'), false);
  assert.equal(isLan('192.168.1.7'), true);
  assert.equal(isLan('192.168.1.8'), false);
});

function flowTable() {
  const classifier = createClassifier(DEFAULT_CATEGORY_TABLE);
  return new FlowTable({ classifier: () => classifier, isLan: createCidrMatcher(['10.0.0.0/8']) });
}

const sumRows = (t: FlowTable) => t.takeHourRows().reduce((s, r) => ({ o: s.o + r.origBytes, r: s.r + r.replyBytes, f: s.f + r.flows }), { o: 0n, r: 0n, f: 0 });

test('FlowTable takes the first dump as a baseline and counts only what comes after', () => {
  const t = flowTable();
  t.applyDump([entry(1)], T0);
  assert.deepEqual(sumRows(t), { o: 0n, r: 0n, f: 0 });
  t.applyDump([entry(1, { origBytes: 1500n, replyBytes: 9000n })], T0 + 5000);
  assert.deepEqual(sumRows(t), { o: 500n, r: 4000n, f: 0 });
});

test('FlowTable counts all bytes of a flow that opened and closed between two dumps (DESTROY only)', () => {
  const t = flowTable();
  t.applyDump([], T0);
  const f = t.applyDestroy(entry(9, { origBytes: 1_236_239n, replyBytes: 1_112n, stopNs: BigInt(T0 + 3000) * 1_000_000n }), T0 + 4000);
  assert.ok(f !== null);
  assert.equal(f.endedAtMs, T0 + 3000);
  assert.deepEqual(sumRows(t), { o: 1_236_239n, r: 1_112n, f: 1 });
  assert.equal(t.recentFlows()[0]!.origBytes, 1_236_239n);
});

test('FlowTable counts a flow seen in dumps once, when it is destroyed after a dump', () => {
  const t = flowTable();
  t.applyDump([], T0);
  t.applyDump([entry(2, { origBytes: 100n, replyBytes: 200n })], T0 + 5000);
  t.applyDestroy(entry(2, { origBytes: 150n, replyBytes: 260n }), T0 + 6000);
  t.applyDump([], T0 + 10_000);
  assert.deepEqual(sumRows(t), { o: 150n, r: 260n, f: 1 });
  assert.equal(t.endedWithoutEvent, 0);
});

test('FlowTable ends a flow missing from a dump with the bytes of its last dump', () => {
  const t = flowTable();
  t.applyDump([], T0);
  t.applyDump([entry(3, { origBytes: 100n, replyBytes: 200n })], T0 + 5000);
  t.applyDump([], T0 + 10_000);
  assert.deepEqual(sumRows(t), { o: 100n, r: 200n, f: 1 });
  assert.equal(t.endedWithoutEvent, 1);
  assert.equal(t.activeCount, 0);
});

test('FlowTable treats a smaller counter as a reset, and a reused id with another tuple as a new flow', () => {
  const t = flowTable();
  t.applyDump([], T0);
  t.applyDump([entry(4, { origBytes: 1000n, replyBytes: 0n })], T0 + 1000);
  t.applyDump([entry(4, { origBytes: 10n, replyBytes: 0n })], T0 + 2000);
  assert.equal(sumRows(t).o, 1010n);
  t.applyDump([entry(4, { sport: 1, origBytes: 5n, replyBytes: 0n })], T0 + 3000);
  const rows = sumRows(t);
  assert.equal(rows.o, 5n);
  assert.equal(rows.f, 1, 'the old flow ended');
});

test('FlowTable labels a flow with a name that came before the flow was seen, and re-categorises its bytes', () => {
  const t = flowTable();
  t.applyDump([], T0);
  const e = entry(5, { dst: '142.250.1.1', origBytes: 300n, replyBytes: 3_000_000n });
  assert.equal(t.label(`6|10.0.0.5|40005|142.250.1.1|443`, 'rr3.googlevideo.com', T0), null);
  t.applyDump([e], T0 + 1000);
  const [f] = t.activeFlows();
  assert.equal(f!.domain, 'rr3.googlevideo.com');
  assert.equal(f!.category, 'video');
  const rows = t.takeHourRows();
  assert.deepEqual(rows.map((r) => [r.host, r.category, r.domain, r.replyBytes]), [['10.0.0.5', 'video', 'rr3.googlevideo.com', 3_000_000n]]);
});

test('FlowTable keeps a bounded number of flows and counts the ones it had to leave out', () => {
  const classifier = createClassifier(DEFAULT_CATEGORY_TABLE);
  const t = new FlowTable({ classifier: () => classifier, isLan: () => true, maxActive: 3, maxRecent: 2 });
  t.applyDump([], T0);
  t.applyDump([1, 2, 3, 4, 5].map((i) => entry(i)), T0 + 1000);
  assert.equal(t.activeCount, 3);
  assert.equal(t.untracked, 2);
  t.applyDump([], T0 + 2000);
  assert.equal(t.recentFlows().length, 2);
});

test('the flow history adds rows up, folds past the top N per host, and drops names past retention', () => {
  const db = new Database(':memory:');
  migrate(db);
  const repo = createFlowHistoryRepo(db);
  const h = 1_800_000_000 - (1_800_000_000 % 3600);
  const row = (domain: string, bytes: bigint, bucket = h) => ({ bucketStartSec: bucket, host: '10.0.0.5', category: 'web' as const, domain, origBytes: bytes, replyBytes: 0n, origPackets: 1n, replyPackets: 0n, flows: 1 });
  repo.add([row('a.example', 100n), row('b.example', 50n), row('c.example', 10n)]);
  repo.add([row('a.example', 1n)]);
  assert.equal(repo.rowCount(), 3);
  repo.foldHours(h + 3600, 2);
  const named = repo.domains(h, h + 3600, null, 10).map((d) => [d.domain, BigInt(d.origBytes)]);
  assert.deepEqual(named, [['a.example', 101n], ['b.example', 50n]]);
  const total = repo.categories(h, h + 3600, null);
  assert.equal(BigInt(total[0]!.origBytes), 161n, 'folding keeps every byte');
  assert.equal(BigInt(total[0]!.flows), 4n);
  repo.prune(h + 1, 0);
  assert.deepEqual(repo.domains(h, h + 3600, null, 10), []);
  assert.equal(BigInt(repo.categories(h, h + 3600, '10.0.0.5')[0]!.origBytes), 161n, 'names gone, bytes kept');
  repo.prune(0, h + 1);
  assert.equal(repo.rowCount(), 0);
  db.close();
});
