import { describe, expect, it, vi } from 'vitest';
import type { ApiLiveEvent } from '$shared/api-types';
import { appendSample, connectLive, sampleFromEvent, type LiveSample } from './live';

const event: ApiLiveEvent = {
  timestamp: '2025-03-11T14:00:01Z',
  interval_ms: 1000,
  interfaces: [
    { name: 'eth0', rx_bytes_per_sec: 1000, tx_bytes_per_sec: 100, rx_packets_per_sec: 10, tx_packets_per_sec: 1 },
    { name: 'wlan0', rx_bytes_per_sec: 500, tx_bytes_per_sec: 50, rx_packets_per_sec: 5, tx_packets_per_sec: 1 },
  ],
};

describe('sampleFromEvent', () => {
  it('takes the rates of the chosen interface', () => {
    expect(sampleFromEvent(event, 'wlan0')).toEqual({ atMs: Date.parse(event.timestamp), rxBytesPerSec: 500, txBytesPerSec: 50 });
  });

  it('sums every interface for the total', () => {
    expect(sampleFromEvent(event, null)).toMatchObject({ rxBytesPerSec: 1500, txBytesPerSec: 150 });
  });

  it('returns null when the chosen interface is not in the event', () => {
    expect(sampleFromEvent(event, 'eth9')).toBeNull();
  });
});

describe('appendSample', () => {
  const s = (atMs: number): LiveSample => ({ atMs, rxBytesPerSec: atMs, txBytesPerSec: 0 });

  it('drops the oldest sample beyond the capacity', () => {
    expect(appendSample([s(1), s(2), s(3)], s(4), 3).map((x) => x.atMs)).toEqual([2, 3, 4]);
  });

  it('ignores a sample that is not newer than the last one', () => {
    expect(appendSample([s(1), s(2)], s(2), 3).map((x) => x.atMs)).toEqual([1, 2]);
  });
});

describe('connectLive', () => {
  function fakeSource() {
    const source = {
      readyState: 0,
      onopen: null as ((ev: Event) => unknown) | null,
      onmessage: null as ((ev: MessageEvent) => unknown) | null,
      onerror: null as ((ev: Event) => unknown) | null,
      close: vi.fn(),
    };
    return source;
  }

  it('parses each message and skips one that does not parse', () => {
    const source = fakeSource();
    const events: ApiLiveEvent[] = [];
    const stop = connectLive('eth0', { onEvent: (e) => events.push(e), onStatus: () => {} }, () => source as never);
    source.onmessage?.(new MessageEvent('message', { data: '{"broken":' }));
    source.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }));
    expect(events).toHaveLength(1);
    stop();
    expect(source.close).toHaveBeenCalled();
  });

  it('opens the stream for the chosen interface', () => {
    const urls: string[] = [];
    const stop = connectLive('eth0', { onEvent: () => {}, onStatus: () => {} }, (url) => {
      urls.push(url);
      return fakeSource() as never;
    });
    stop();
    expect(urls).toEqual(['/api/live?interface=eth0']);
  });

  it('reopens the stream itself when the browser closed it', () => {
    vi.useFakeTimers();
    try {
      const sources = [fakeSource(), fakeSource()];
      const statuses: string[] = [];
      let opened = 0;
      const stop = connectLive(null, { onEvent: () => {}, onStatus: (st) => statuses.push(st) }, () => sources[opened++] as never, 3000);
      sources[0]!.readyState = 2;
      sources[0]!.onerror?.(new Event('error'));
      expect(opened).toBe(1);
      vi.advanceTimersByTime(3000);
      expect(opened).toBe(2);
      expect(statuses).toEqual(['connecting', 'retrying', 'connecting']);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
