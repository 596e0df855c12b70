/**
 * The live rate: GET /api/live is a server-sent event stream, one event a second, computed by the
 * server from fresh kernel counter reads. This module turns events into samples for one interface
 * (or the sum over all monitored ones), keeps the rolling history for the sparkline, and owns the
 * EventSource, reconnecting when the browser gives up on it.
 */
import type { ApiLiveEvent } from '$shared/api-types';
import { livePath } from './client';
import { parseLiveEvent } from './parse';

export interface LiveSample {
  atMs: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

/** The sample for one interface, or the sum over every interface in the event when `interfaceName` is null. */
export function sampleFromEvent(event: ApiLiveEvent, interfaceName: string | null): LiveSample | null {
  const rates = interfaceName === null ? event.interfaces : event.interfaces.filter((r) => r.name === interfaceName);
  if (rates.length === 0) return null;
  let rxBytesPerSec = 0;
  let txBytesPerSec = 0;
  for (const rate of rates) {
    rxBytesPerSec += rate.rx_bytes_per_sec;
    txBytesPerSec += rate.tx_bytes_per_sec;
  }
  return { atMs: Date.parse(event.timestamp), rxBytesPerSec, txBytesPerSec };
}

/** The history with `sample` appended, at most `maxSamples` long; a sample not newer than the last is dropped. */
export function appendSample(history: readonly LiveSample[], sample: LiveSample, maxSamples: number): LiveSample[] {
  const last = history[history.length - 1];
  if (last && sample.atMs <= last.atMs) return [...history];
  const next = [...history, sample];
  return next.length > maxSamples ? next.slice(next.length - maxSamples) : next;
}

export type LiveStatus = 'connecting' | 'open' | 'retrying';

export interface LiveHandlers {
  onEvent: (event: ApiLiveEvent) => void;
  onStatus: (status: LiveStatus) => void;
}

export interface EventSourceLike {
  readyState: number;
  onopen: ((this: EventSource, ev: Event) => unknown) | null;
  onmessage: ((this: EventSource, ev: MessageEvent) => unknown) | null;
  onerror: ((this: EventSource, ev: Event) => unknown) | null;
  close(): void;
}

const CLOSED = 2;

/** Opens the stream (see livePath for `target`); returns a function that closes it for good. */
export function connectLive(
  target: string | null | 'all',
  handlers: LiveHandlers,
  open: (url: string) => EventSourceLike = (url) => new EventSource(url),
  retryDelayMs = 3000,
): () => void {
  return connectEventStream(livePath(target), parseLiveEvent, handlers, open, retryDelayMs);
}

/**
 * Opens a server-sent event stream whose events are JSON, parsed by `parse` (a malformed event is skipped);
 * reconnects after `retryDelayMs` when the browser closed it for good. Returns a function that closes it.
 */
export function connectEventStream<T>(
  url: string,
  parse: (json: unknown) => T,
  handlers: { onEvent: (event: T) => void; onStatus: (status: LiveStatus) => void },
  open: (url: string) => EventSourceLike = (u) => new EventSource(u),
  retryDelayMs = 3000,
): () => void {
  let source: EventSourceLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const start = (): void => {
    handlers.onStatus('connecting');
    const es = open(url);
    source = es;
    es.onopen = () => handlers.onStatus('open');
    es.onmessage = (message: MessageEvent) => {
      let event: T;
      try {
        event = parse(JSON.parse(String(message.data)));
      } catch {
        // One malformed event is skipped; the next one brings another.
        return;
      }
      handlers.onEvent(event);
    };
    es.onerror = () => {
      if (stopped) return;
      handlers.onStatus('retrying');
      // The browser retries by itself unless it closed the stream (an HTTP error or a wrong content type).
      if (es.readyState === CLOSED) {
        es.close();
        retryTimer = setTimeout(start, retryDelayMs);
      }
    };
  };

  start();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    source?.close();
  };
}
