import { describe, expect, it, vi } from 'vitest';
import {
  FLOWS_LIVE_PATH,
  capRows,
  categoriesPath,
  categoryBars,
  endpoint,
  filterFlows,
  flowKey,
  flowsPath,
  hostChoices,
  mergeActive,
  mergeEnded,
  parseCategoryTraffic,
  parseFlowLiveEvent,
  parseFlows,
  rowsFromList,
  sortFlows,
  type ApiFlow,
} from './flows';
import { connectEventStream } from './live';
import { ParseError } from './parse';

let port = 40000;
function flow(over: Partial<ApiFlow> = {}): ApiFlow {
  return {
    protocol: 'tcp',
    src_address: '10.0.0.5',
    src_port: port++,
    dst_address: '198.51.100.7',
    dst_port: 443,
    orig_bytes: 100,
    reply_bytes: 900,
    orig_packets: 2,
    reply_packets: 3,
    category: 'web',
    domain: 'example.com',
    started_at: '2026-01-01T10:00:00.000Z',
    ended_at: null,
    host: '10.0.0.5',
    ...over,
  };
}
const event = (timestamp: string, flows: ApiFlow[], ended: ApiFlow[] = []) => ({ timestamp, active: flows.length, flows, ended });

describe('flows API parsers', () => {
  it('parses /api/flows and names the field that is wrong', () => {
    const f = flow();
    expect(parseFlows({ data: [f] }).data[0]).toEqual(f);
    expect(() => parseFlows({ data: [{ ...f, orig_bytes: -1 }] })).toThrow(/data\[0\]\.orig_bytes/);
    expect(() => parseFlows({ data: [{ ...f, category: 'gaming' }] })).toThrow(ParseError);
    expect(() => parseFlows({ data: [{ ...f, src_port: 70000 }] })).toThrow(/src_port/);
    expect(() => parseFlows({ data: [{ ...f, started_at: 'yesterday' }] })).toThrow(/started_at/);
    expect(() => parseFlows({ rows: [] })).toThrow(/data/);
  });

  it('parses a live event with its active and ended flows', () => {
    const e = parseFlowLiveEvent(event('2026-01-01T10:00:05.000Z', [flow()], [flow({ ended_at: '2026-01-01T10:00:04.000Z' })]));
    expect(e.flows).toHaveLength(1);
    expect(e.ended[0]!.ended_at).toBe('2026-01-01T10:00:04.000Z');
    expect(() => parseFlowLiveEvent({ timestamp: '2026-01-01T10:00:05Z', active: 1, flows: [] })).toThrow(/ended/);
  });

  it('parses /api/traffic/categories', () => {
    const answer = { time_window_hours: 24, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', host: null, data: [{ category: 'video', bytes: 30, orig_bytes: 10, reply_bytes: 20, packets: 3, flows: 1 }] };
    expect(parseCategoryTraffic(answer).data[0]!.bytes).toBe(30);
    expect(() => parseCategoryTraffic({ ...answer, data: [{ ...answer.data[0], flows: 'one' }] })).toThrow(/data\[0\]\.flows/);
    expect(() => parseCategoryTraffic({ ...answer, host: 5 })).toThrow(/host/);
  });

  it('builds the paths', () => {
    expect(flowsPath('recent', null, 200)).toBe('/api/flows?state=recent&limit=200');
    expect(flowsPath('active', '10.0.0.5', 50)).toBe('/api/flows?state=active&limit=50&host=10.0.0.5');
    expect(categoriesPath(24, null)).toBe('/api/traffic/categories?time_window_hours=24');
    expect(categoriesPath(1, 'fd00::5')).toBe('/api/traffic/categories?time_window_hours=1&host=fd00%3A%3A5');
  });
});

describe('flows table logic', () => {
  it('gives a flow a rate from two live events, and none from its first sighting', () => {
    const f = flow({ orig_bytes: 1000, reply_bytes: 1000 });
    const first = mergeActive([], event('2026-01-01T10:00:00.000Z', [f]), 100);
    expect(first[0]!.rateBytesPerSec).toBeNull();
    const second = mergeActive(first, event('2026-01-01T10:00:04.000Z', [{ ...f, orig_bytes: 3000, reply_bytes: 7000 }]), 100);
    expect(second[0]!.totalBytes).toBe(10_000);
    expect(second[0]!.rateBytesPerSec).toBe(2000); // 8,000 bytes in 4 s
  });

  it('keeps only the flows of the latest event (ended ones leave the active table)', () => {
    const a = flow();
    const b = flow();
    const rows = mergeActive(mergeActive([], event('2026-01-01T10:00:00Z', [a, b]), 100), event('2026-01-01T10:00:05Z', [b]), 100);
    expect(rows.map((r) => r.key)).toEqual([flowKey(b)]);
  });

  it('a later flow on the same 5-tuple is a new row (its start differs)', () => {
    const a = flow();
    const again = { ...a, started_at: '2026-01-01T10:30:00.000Z' };
    expect(flowKey(a)).not.toBe(flowKey(again));
  });

  it('caps the rows the browser holds, keeping the busiest', () => {
    const rows = rowsFromList(
      Array.from({ length: 50 }, (_, i) => flow({ orig_bytes: i, reply_bytes: 0 })),
      0,
      10,
    );
    expect(rows).toHaveLength(10);
    expect(Math.min(...rows.map((r) => r.totalBytes))).toBe(40);
    expect(capRows(rows, 100)).toBe(rows);
  });

  it('keeps ended flows newest first, without repeats, capped', () => {
    const old = flow({ ended_at: '2026-01-01T10:00:01Z' });
    const newer = flow({ ended_at: '2026-01-01T10:00:09Z' });
    const newest = flow({ ended_at: '2026-01-01T10:00:10Z' });
    let ended = mergeEnded([], [old], 0, 3);
    ended = mergeEnded(ended, [newer, newest, old], 0, 3);
    expect(ended.map((r) => r.ended_at)).toEqual(['2026-01-01T10:00:10Z', '2026-01-01T10:00:09Z', '2026-01-01T10:00:01Z']);
    expect(mergeEnded(ended, [flow({ ended_at: '2026-01-01T10:00:11Z' })], 0, 3)).toHaveLength(3);
  });

  it('sorts by bytes, rate or start, either way, with a stable order for ties', () => {
    const small = flow({ orig_bytes: 1, reply_bytes: 1, started_at: '2026-01-01T10:00:03Z' });
    const big = flow({ orig_bytes: 500, reply_bytes: 500, started_at: '2026-01-01T10:00:01Z' });
    const t0 = mergeActive([], event('2026-01-01T10:00:05Z', [small, big]), 100);
    const t1 = mergeActive(t0, event('2026-01-01T10:00:06Z', [{ ...small, reply_bytes: 5001 }, { ...big, reply_bytes: 600 }]), 100);
    expect(sortFlows(t1, 'bytes', 'desc').map((r) => r.src_port)).toEqual([small.src_port, big.src_port]);
    expect(sortFlows(t1, 'rate', 'desc').map((r) => r.rateBytesPerSec)).toEqual([5000, 100]);
    expect(sortFlows(t1, 'started', 'asc').map((r) => r.src_port)).toEqual([big.src_port, small.src_port]);
    expect(sortFlows(t1, 'started', 'desc').map((r) => r.src_port)).toEqual([small.src_port, big.src_port]);
    const tie = rowsFromList([flow({ orig_bytes: 5 }), flow({ orig_bytes: 5 })], 0, 10);
    expect(sortFlows(tie, 'bytes', 'desc').map((r) => r.key)).toEqual(sortFlows([...tie].reverse(), 'bytes', 'desc').map((r) => r.key));
  });

  it('filters by host (its LAN side or either address) and by category', () => {
    const rows = rowsFromList(
      [flow({ host: '10.0.0.5', category: 'video' }), flow({ host: '10.0.0.6', src_address: '10.0.0.6', category: 'web' }), flow({ host: '10.0.0.6', src_address: '10.0.0.6', category: 'video' })],
      0,
      10,
    );
    expect(filterFlows(rows, { host: '10.0.0.6', category: null })).toHaveLength(2);
    expect(filterFlows(rows, { host: null, category: 'video' })).toHaveLength(2);
    expect(filterFlows(rows, { host: '10.0.0.6', category: 'video' })).toHaveLength(1);
    expect(filterFlows(rows, { host: '198.51.100.7', category: null })).toHaveLength(3);
    expect(filterFlows(rows, { host: null, category: null })).toHaveLength(3);
    expect(hostChoices(rows, '10.0.0.40')).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.40']);
  });

  it('writes endpoints, IPv6 in brackets', () => {
    expect(endpoint('10.0.0.5', 443)).toBe('10.0.0.5:443');
    expect(endpoint('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(endpoint('10.0.0.5', 0)).toBe('10.0.0.5');
  });

  it('orders the category bars busiest first and leaves out empty ones', () => {
    const c = (category: 'video' | 'web' | 'file', bytes: number) => ({ category, bytes, orig_bytes: 0, reply_bytes: bytes, packets: 1, flows: 1 });
    expect(categoryBars([c('web', 5), c('video', 50), c('file', 0)]).map((x) => x.category)).toEqual(['video', 'web']);
  });
});

describe('the flows stream', () => {
  it('opens /api/flows/live, hands on parsed events, skips one that does not parse, and closes for good', () => {
    const source = { readyState: 0, onopen: null, onmessage: null as ((ev: MessageEvent) => unknown) | null, onerror: null, close: vi.fn() };
    const urls: string[] = [];
    const got: number[] = [];
    const stop = connectEventStream(FLOWS_LIVE_PATH, parseFlowLiveEvent, { onEvent: (e) => got.push(e.active), onStatus: () => {} }, (url) => {
      urls.push(url);
      return source as never;
    });
    source.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ timestamp: '2026-01-01T10:00:00Z', active: 3, flows: [{ protocol: 'tcp' }], ended: [] }) }));
    source.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event('2026-01-01T10:00:05Z', [flow()])) }));
    expect(urls).toEqual(['/api/flows/live']);
    expect(got).toEqual([1]);
    stop();
    expect(source.close).toHaveBeenCalled();
  });
});
