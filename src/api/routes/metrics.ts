import type { App } from '../app.js';
import type { AppContext } from '../context.js';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const COUNTERS: [string, string, string][] = [
  ['rx_bytes', 'netpulse_receive_bytes_total', 'Bytes received, counted by Net-Pulse since it first ran (exact across wraps, resets and reboots).'],
  ['tx_bytes', 'netpulse_transmit_bytes_total', 'Bytes sent, counted by Net-Pulse since it first ran.'],
  ['rx_packets', 'netpulse_receive_packets_total', 'Packets received, counted by Net-Pulse since it first ran.'],
  ['tx_packets', 'netpulse_transmit_packets_total', 'Packets sent, counted by Net-Pulse since it first ran.'],
  ['rx_errors', 'netpulse_receive_errors_total', 'Receive errors, counted by Net-Pulse since it first ran.'],
  ['tx_errors', 'netpulse_transmit_errors_total', 'Transmit errors, counted by Net-Pulse since it first ran.'],
  ['rx_drops', 'netpulse_receive_drops_total', 'Received packets dropped, counted by Net-Pulse since it first ran.'],
  ['tx_drops', 'netpulse_transmit_drops_total', 'Sent packets dropped, counted by Net-Pulse since it first ran.'],
];

/** Prometheus text exposition of the all-time totals and the collector's health. */
export function renderMetrics(ctx: AppContext): string {
  const lines: string[] = [];
  const totals = ctx.allTimeTotals();
  const monitored = ctx.settings.monitored();
  // Every interface with stored traffic or monitored: a monitored one that has seen no traffic yet is 0, not
  // absent, so rate() and dashboards have a series from the first scrape on.
  const names = [...new Set([...totals.keys(), ...monitored])].sort();
  for (const [column, metric, help] of COUNTERS) {
    lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
    for (const name of names) lines.push(`${metric}{interface="${escapeLabel(name)}"} ${totals.get(name)?.[column]?.toString() ?? '0'}`);
  }
  const s = ctx.collector.stats();
  lines.push('# HELP netpulse_interface_monitored 1 when the interface is monitored.', '# TYPE netpulse_interface_monitored gauge');
  for (const name of [...monitored].sort()) lines.push(`netpulse_interface_monitored{interface="${escapeLabel(name)}"} 1`);
  lines.push(
    '# HELP netpulse_collector_up 1 when the collector is polling.',
    '# TYPE netpulse_collector_up gauge',
    `netpulse_collector_up ${s.running ? 1 : 0}`,
    '# HELP netpulse_collector_polls_total Polls stored since the server started.',
    '# TYPE netpulse_collector_polls_total counter',
    `netpulse_collector_polls_total ${s.polls}`,
    '# HELP netpulse_collector_poll_failures_total Polls that failed since the server started.',
    '# TYPE netpulse_collector_poll_failures_total counter',
    `netpulse_collector_poll_failures_total ${s.failedPolls}`,
    '# HELP netpulse_collector_interval_seconds Seconds between polls.',
    '# TYPE netpulse_collector_interval_seconds gauge',
    `netpulse_collector_interval_seconds ${ctx.settings.interval().intervalSec}`,
    '# HELP netpulse_collector_last_poll_timestamp_seconds Unix time of the last stored poll.',
    '# TYPE netpulse_collector_last_poll_timestamp_seconds gauge',
    `netpulse_collector_last_poll_timestamp_seconds ${s.lastPollAtMs === null ? 'NaN' : (s.lastPollAtMs / 1000).toFixed(3)}`,
  );
  const durations = [...s.recentDurationsUs].sort((a, b) => a - b);
  lines.push(
    '# HELP netpulse_collector_poll_duration_seconds Median time of a poll (read, parse, deltas, write) over the recent polls; 0 before the first.',
    '# TYPE netpulse_collector_poll_duration_seconds gauge',
    `netpulse_collector_poll_duration_seconds ${durations.length === 0 ? '0' : (durations[Math.floor(durations.length / 2)]! / 1e6).toFixed(6)}`,
  );
  lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${process.memoryUsage.rss()}`);
  return lines.join('\n') + '\n';
}

export function registerMetricsRoutes(app: App, ctx: AppContext): void {
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus text format: per-interface totals and collector health', produces: ['text/plain'] } }, async (_req, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(ctx)),
  );
}
