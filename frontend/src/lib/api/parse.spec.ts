import { describe, expect, it } from 'vitest';
import {
  ParseError,
  parseAlerts,
  parseApiError,
  parseDataCap,
  parseDevices,
  parseUsage,
  parseCollectionInterval,
  parseCollectorStatus,
  parseInterfaces,
  parseLiveEvent,
  parseMonitored,
  parseTraffic,
} from './parse';

const eth0 = {
  name: 'eth0',
  kind: 'ethernet',
  is_up: true,
  oper_state: 'up',
  addresses: [{ family: 'IPv4', address: '192.168.1.10', netmask: '255.255.255.0', cidr: '192.168.1.10/24' }],
  mac: '52:54:00:12:34:56',
  mtu: 1500,
  speed: 1000,
  is_virtual: false,
  is_primary: true,
  monitored: true,
  counters: {
    rx_bytes: 1,
    tx_bytes: 2,
    rx_packets: 3,
    tx_packets: 4,
    rx_errors: 0,
    tx_errors: 0,
    rx_drops: 0,
    tx_drops: 0,
  },
};

const traffic = {
  data: [
    { timestamp: '2025-03-11T14:00:00Z', rx_bytes: 600, tx_bytes: 60, rx_packets: 6, tx_packets: 1 },
    { timestamp: '2025-03-11T14:05:00Z', rx_bytes: null, tx_bytes: null, rx_packets: null, tx_packets: null },
  ],
  interface: null,
  interfaces: ['eth0', 'wlan0'],
  time_window_hours: 1,
  group_minutes: 5,
  bucket_seconds: 300,
  timezone: 'Europe/Berlin',
  start: '2025-03-11T13:10:00Z',
  end: '2025-03-11T14:10:00Z',
};

describe('parseInterfaces', () => {
  it('accepts a well-formed interface list', () => {
    expect(parseInterfaces([eth0])[0]?.name).toBe('eth0');
  });

  it('names the path of a field with the wrong type', () => {
    const bad = [eth0, { ...eth0, is_primary: 'yes' }];
    expect(() => parseInterfaces(bad)).toThrow(new ParseError('[1].is_primary', 'true or false'));
  });

  it('rejects a missing required field', () => {
    const { monitored: _omit, ...withoutMonitored } = eth0;
    expect(() => parseInterfaces([withoutMonitored])).toThrow(/\[0\]\.monitored/);
  });

  it('reads an unknown interface kind as other', () => {
    expect(parseInterfaces([{ ...eth0, kind: 'infiniband' }])[0]?.kind).toBe('other');
  });

  it('accepts null counters and ignores fields it does not know', () => {
    const parsed = parseInterfaces([{ ...eth0, counters: null, driver: 'virtio' }]);
    expect(parsed[0]?.counters).toBeNull();
    expect(parsed[0]).not.toHaveProperty('driver');
  });

  it('rejects an object where a list is expected', () => {
    expect(() => parseInterfaces({ interfaces: [eth0] })).toThrow(ParseError);
  });
});

describe('parseTraffic', () => {
  it('keeps null totals so gaps stay gaps', () => {
    const parsed = parseTraffic(traffic);
    expect(parsed.data[1]?.rx_bytes).toBeNull();
    expect(parsed.data[0]?.rx_bytes).toBe(600);
  });

  it('rejects a timestamp that is not a time', () => {
    const bad = { ...traffic, data: [{ ...traffic.data[0], timestamp: 'yesterday' }] };
    expect(() => parseTraffic(bad)).toThrow(/data\[0\]\.timestamp/);
  });

  it('rejects a zero bucket length', () => {
    expect(() => parseTraffic({ ...traffic, bucket_seconds: 0 })).toThrow(/bucket_seconds/);
  });

  it('rejects a total sent as a string', () => {
    const bad = { ...traffic, data: [{ ...traffic.data[0], rx_bytes: '600' }] };
    expect(() => parseTraffic(bad)).toThrow(/rx_bytes: expected a number/);
  });
});

describe('small shapes', () => {
  it('parseMonitored accepts a list of names and rejects a list of numbers', () => {
    expect(parseMonitored(['eth0'])).toEqual(['eth0']);
    expect(() => parseMonitored([1])).toThrow(ParseError);
  });

  it('parseCollectionInterval accepts only the three known sources', () => {
    const ok = { interval_seconds: 1, source: 'env', configured_seconds: 30, min_seconds: 1, max_seconds: 3600 };
    expect(parseCollectionInterval(ok).source).toBe('env');
    expect(() => parseCollectionInterval({ ...ok, source: 'file' })).toThrow(/source/);
  });

  it('parseCollectorStatus accepts a status before the first poll', () => {
    const status = parseCollectorStatus({
      running: true,
      interval_seconds: 30,
      monitored_interfaces: ['eth0'],
      polls: 0,
      failed_polls: 0,
      last_poll_at: null,
      next_poll_at: '2025-03-11T14:00:30Z',
      last_error: null,
      first_data_at: null,
      started_at: '2025-03-11T14:00:00Z',
    });
    expect(status.first_data_at).toBeNull();
  });

  it('parseLiveEvent reads rates per interface', () => {
    const event = parseLiveEvent({
      timestamp: '2025-03-11T14:00:01Z',
      interval_ms: 1000,
      interfaces: [{ name: 'eth0', rx_bytes_per_sec: 10, tx_bytes_per_sec: 2, rx_packets_per_sec: 1, tx_packets_per_sec: 1 }],
    });
    expect(event.interfaces[0]?.rx_bytes_per_sec).toBe(10);
  });
});

describe('parseApiError', () => {
  it('reads code and message and fills the status', () => {
    expect(parseApiError({ code: 'EMPTY_SELECTION', message: 'Pick one' }, 400)).toEqual({
      statusCode: 400,
      code: 'EMPTY_SELECTION',
      error: '',
      message: 'Pick one',
    });
  });

  it('returns null for a body that is not an API error', () => {
    expect(parseApiError('<html>Bad Gateway</html>', 502)).toBeNull();
    expect(parseApiError({ message: 'no code' }, 500)).toBeNull();
  });
});

describe('usage, data cap, alerts and devices', () => {
  const usageRow = {
    label: '2026-11-22',
    start: '2026-11-22T00:00:00.000Z',
    end: '2026-11-23T00:00:00.000Z',
    start_date: '2026-11-22',
    end_date: '2026-11-23',
    rx_bytes: 3126261707,
    tx_bytes: 547261184,
    total_bytes: 3673522891,
    current: true,
    estimate: { rx_bytes: 69669592851, tx_bytes: 12195864404, total_bytes: 81865457255 },
  };
  const usage = {
    period: 'day',
    device: { id: '56e37b7d-8521-4e39-82fd-7f6eef9be36c', name: 'vm', is_local: true },
    interface: null,
    interfaces: ['eth0', 'wlan0'],
    timezone: 'UTC',
    month_start_day: 1,
    rows: [usageRow, { ...usageRow, label: '2026-11-21', current: false, estimate: null }],
  };

  it('parseUsage accepts the server’s answer, estimates and all', () => {
    const parsed = parseUsage(usage);
    expect(parsed.rows[0]?.estimate?.total_bytes).toBe(81865457255);
    expect(parsed.rows[1]?.estimate).toBeNull();
  });

  it('parseUsage refuses a negative or fractional byte count and a malformed date', () => {
    expect(() => parseUsage({ ...usage, rows: [{ ...usageRow, rx_bytes: -1 }] })).toThrow(new ParseError('rows[0].rx_bytes', 'a byte count'));
    expect(() => parseUsage({ ...usage, rows: [{ ...usageRow, tx_bytes: 1.5 }] })).toThrow(ParseError);
    expect(() => parseUsage({ ...usage, rows: [{ ...usageRow, start_date: '22/11/2026' }] })).toThrow(new ParseError('rows[0].start_date', 'a YYYY-MM-DD date'));
  });

  const dataCap = {
    limit_bytes: 4000000000000,
    interface: null,
    direction: 'both',
    thresholds_percent: [50, 80, 100],
    month_start_day: 1,
    month_start_day_source: 'default',
    timezone: 'UTC',
    units: 'decimal',
    webhook_configured: false,
    updated_at: '2026-11-22T01:04:39.000Z',
    status: {
      period: '2026-11',
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      start_date: '2026-11-01',
      end_date: '2026-12-01',
      interfaces: ['eth0', 'wlan0'],
      rx_bytes: 2691041427462,
      tx_bytes: 421209161030,
      used_bytes: 3112250588492,
      limit_bytes: 4000000000000,
      remaining_bytes: 887749411508,
      projected_bytes: 4436587303362,
      percent_used: 77.8,
      projected_percent: 110.91,
    },
  };

  it('parseDataCap accepts a cap with its status, and no cap at all', () => {
    expect(parseDataCap(dataCap).status?.percent_used).toBe(77.8);
    const none = parseDataCap({ ...dataCap, limit_bytes: null, status: null, updated_at: null });
    expect(none.limit_bytes).toBeNull();
    expect(none.status).toBeNull();
  });

  it('parseDataCap refuses a direction it does not know', () => {
    expect(() => parseDataCap({ ...dataCap, direction: 'up' })).toThrow(new ParseError('direction', 'one of both, rx, tx'));
  });

  it('parseAlerts reads alerts with their webhook state', () => {
    const alert = {
      id: 2,
      kind: 'projection',
      threshold_percent: 100,
      scope: 'total',
      interface: null,
      period_start: '2026-11-01T00:00:00.000Z',
      period_end: '2026-12-01T00:00:00.000Z',
      limit_bytes: 4000000000000,
      used_bytes: 3112250588492,
      projected_bytes: 4436587303362,
      percent_used: 77.8,
      fired_at: '2026-11-22T01:04:39.000Z',
      message: 'Data cap: the total is projected to reach 4.44 TB',
      webhook: { status: 'not_configured', attempts: 0, last_error: null },
    };
    expect(parseAlerts({ webhook_configured: false, alerts: [alert] }).alerts[0]?.kind).toBe('projection');
    expect(() => parseAlerts({ webhook_configured: false, alerts: [{ ...alert, webhook: { ...alert.webhook, status: 'lost' } }] })).toThrow(ParseError);
  });

  it('parseDevices reads the sync state, every device and the sum', () => {
    const parsed = parseDevices({
      sync: { configured: false, state: 'disabled', target: null, last_success: null, last_error: null, outage_since: null },
      month: { label: '2026-11', start_date: '2026-11-01', end_date: '2026-12-01' },
      devices: [
        {
          id: '56e37b7d-8521-4e39-82fd-7f6eef9be36c',
          name: 'vm',
          timezone: 'UTC',
          is_local: true,
          last_seen: '2026-11-22T01:04:37.598Z',
          interfaces: ['eth0', 'wlan0'],
          month: { rx_bytes: 2, tx_bytes: 1, total_bytes: 3 },
        },
      ],
      all: { rx_bytes: 2, tx_bytes: 1, total_bytes: 3 },
    });
    expect(parsed.devices[0]?.is_local).toBe(true);
    expect(parsed.all.total_bytes).toBe(3);
  });
});
