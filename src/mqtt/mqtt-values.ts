/**
 * The numbers MQTT publishes, read from the same services the API answers from: the rate of each
 * interface's newest stored sample (what /api/traffic/latest gives, bytes / span), today's and this billing
 * month's totals (the usage service, as /api/usage), the data cap's percent (as /api/config/data-cap) and
 * the collector's state (as /collector/status).
 */
import type { CollectorStats } from '../collector/collector.js';
import type { CapStatus } from '../services/alerts-service.js';
import type { UsageSummary } from '../services/usage-service.js';
import type { RawRow } from '../storage/traffic-repo.js';
import type { CollectorState, InstanceValues, InterfaceValues } from './home-assistant.js';

export interface MqttValueSources {
  monitored: () => readonly string[];
  latest: () => RawRow[];
  summary: (interfaceName: string) => Promise<{ summary: UsageSummary }>;
  capStatus: () => Promise<CapStatus | null>;
  collector: () => CollectorStats;
}

export interface MqttSnapshot {
  interfaces: InterfaceValues[];
  instance: InstanceValues;
}

export function collectorState(stats: CollectorStats): CollectorState {
  if (!stats.running) return 'stopped';
  return stats.lastError === null ? 'polling' : 'failing';
}

/**
 * The rate of an interface is its newest stored sample's bytes over the sample's span, as long as that
 * sample came from the newest poll: a poll that saw no traffic stores nothing, so an older sample means 0.
 */
export function sampleRates(row: RawRow | undefined, lastPollAtMs: number | null): { rxBytesPerSec: number; txBytesPerSec: number } {
  if (row === undefined || row.span_seconds <= 0) return { rxBytesPerSec: 0, txBytesPerSec: 0 };
  if (lastPollAtMs !== null && Math.abs(row.timestamp - lastPollAtMs / 1000) > 1) return { rxBytesPerSec: 0, txBytesPerSec: 0 };
  return { rxBytesPerSec: Number(row.rx_bytes) / row.span_seconds, txBytesPerSec: Number(row.tx_bytes) / row.span_seconds };
}

export async function readMqttSnapshot(sources: MqttValueSources): Promise<MqttSnapshot> {
  const stats = sources.collector();
  const latest = new Map(sources.latest().map((r) => [r.interface_name, r]));
  const interfaces = await Promise.all(
    sources.monitored().map(async (name): Promise<InterfaceValues> => {
      const { summary } = await sources.summary(name);
      return {
        name,
        ...sampleRates(latest.get(name), stats.lastPollAtMs),
        todayRxBytes: summary.today.rxBytes,
        todayTxBytes: summary.today.txBytes,
        monthRxBytes: summary.thisMonth.rxBytes,
        monthTxBytes: summary.thisMonth.txBytes,
        monthStart: summary.thisMonth.startDate,
      };
    }),
  );
  const cap = await sources.capStatus();
  return {
    interfaces,
    instance: {
      collector: collectorState(stats),
      capUsedPercent: cap === null ? null : cap.percentUsed,
      lastPollAt: stats.lastPollAtMs === null ? null : new Date(stats.lastPollAtMs).toISOString(),
    },
  };
}
