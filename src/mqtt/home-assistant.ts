/**
 * What Net-Pulse publishes over MQTT, as pure data: the topics, the Home Assistant discovery configs
 * (homeassistant/sensor/<node>/<object>/config, one device per Net-Pulse instance) and the state payloads.
 * No broker here: mqtt-publisher.ts sends what this file builds, so every payload is testable as a value.
 *
 * Per monitored interface one retained JSON state topic, <prefix>/interface/<name>/state, read by six
 * sensors: receive/transmit rate (data_rate, B/s, measurement), today's and this billing month's
 * received/sent bytes (data_size, B, total_increasing: they drop to 0 when a day or month begins, which
 * Home Assistant's statistics treat as a meter reset). Per instance <prefix>/state holds the collector's
 * state (an enum sensor) and, when a data cap is set, the percent of it used. <prefix>/availability is
 * "online" while Net-Pulse runs and "offline" after a clean stop or, as the broker's last will, a crash.
 */

export const AVAILABLE = 'online';
export const UNAVAILABLE = 'offline';
export const COLLECTOR_STATES = ['polling', 'failing', 'stopped'] as const;
export type CollectorState = (typeof COLLECTOR_STATES)[number];

export interface MqttIdentity {
  /** A stable id of this instance (the device id): HA's device identifier and the discovery node id. */
  deviceId: string;
  /** The instance's name (NETPULSE_DEVICE_NAME or the host name), HA's device name. */
  deviceName: string;
  version: string;
  /** The dashboard's address, HA's "visit device" link; null when not known. */
  url: string | null;
}

export interface MqttTopics {
  prefix: string;
  discoveryPrefix: string;
  nodeId: string;
  availability: string;
  instanceState: string;
  interfaceState(name: string): string;
  discovery(objectId: string): string;
}

/** Discovery node ids and object ids allow only [a-zA-Z0-9_-]. */
export function topicSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function mqttTopics(identity: Pick<MqttIdentity, 'deviceId'>, options: { topicPrefix: string | null; discoveryPrefix: string }): MqttTopics {
  const nodeId = `netpulse_${topicSafe(identity.deviceId).replace(/-/g, '').slice(0, 12)}`;
  const prefix = options.topicPrefix ?? `netpulse/${nodeId}`;
  return {
    prefix,
    discoveryPrefix: options.discoveryPrefix,
    nodeId,
    availability: `${prefix}/availability`,
    instanceState: `${prefix}/state`,
    // An interface name may hold characters MQTT treats specially (+, #) or a level separator: never in a topic.
    interfaceState: (name) => `${prefix}/interface/${topicSafe(name)}/state`,
    discovery: (objectId) => `${options.discoveryPrefix}/sensor/${nodeId}/${objectId}/config`,
  };
}

export interface InterfaceValues {
  name: string;
  rxBytesPerSec: number;
  txBytesPerSec: number;
  todayRxBytes: bigint;
  todayTxBytes: bigint;
  monthRxBytes: bigint;
  monthTxBytes: bigint;
  /** The billing month's first day, YYYY-MM-DD. */
  monthStart: string;
}

export interface InstanceValues {
  collector: CollectorState;
  /** Percent of the data cap used this billing month; null when no cap is set. */
  capUsedPercent: number | null;
  lastPollAt: string | null;
}

interface SensorSpec {
  key: string;
  name: string;
  deviceClass: 'data_rate' | 'data_size' | 'enum' | null;
  stateClass: 'measurement' | 'total_increasing' | null;
  unit: string | null;
  icon: string;
  options?: readonly string[];
}

const INTERFACE_SENSORS: readonly SensorSpec[] = [
  { key: 'rx_bytes_per_sec', name: 'download rate', deviceClass: 'data_rate', stateClass: 'measurement', unit: 'B/s', icon: 'mdi:download-network' },
  { key: 'tx_bytes_per_sec', name: 'upload rate', deviceClass: 'data_rate', stateClass: 'measurement', unit: 'B/s', icon: 'mdi:upload-network' },
  { key: 'today_rx_bytes', name: 'received today', deviceClass: 'data_size', stateClass: 'total_increasing', unit: 'B', icon: 'mdi:download' },
  { key: 'today_tx_bytes', name: 'sent today', deviceClass: 'data_size', stateClass: 'total_increasing', unit: 'B', icon: 'mdi:upload' },
  { key: 'month_rx_bytes', name: 'received this month', deviceClass: 'data_size', stateClass: 'total_increasing', unit: 'B', icon: 'mdi:download' },
  { key: 'month_tx_bytes', name: 'sent this month', deviceClass: 'data_size', stateClass: 'total_increasing', unit: 'B', icon: 'mdi:upload' },
];

const COLLECTOR_SENSOR: SensorSpec = { key: 'collector', name: 'collector', deviceClass: 'enum', stateClass: null, unit: null, icon: 'mdi:lan-connect', options: COLLECTOR_STATES };
const CAP_SENSOR: SensorSpec = { key: 'cap_used_percent', name: 'data cap used', deviceClass: null, stateClass: 'measurement', unit: '%', icon: 'mdi:gauge' };

export interface DiscoveryMessage {
  /** The object id: unique within this instance's node. */
  objectId: string;
  topic: string;
  config: Record<string, unknown>;
}

function device(identity: MqttIdentity) {
  return {
    identifiers: [`netpulse_${identity.deviceId}`],
    name: identity.deviceName,
    manufacturer: 'Net-Pulse',
    model: 'Net-Pulse network traffic monitor',
    sw_version: identity.version,
    ...(identity.url !== null ? { configuration_url: identity.url } : {}),
  };
}

function sensorConfig(spec: SensorSpec, opts: { objectId: string; name: string; stateTopic: string; identity: MqttIdentity; topics: MqttTopics }): Record<string, unknown> {
  return {
    name: opts.name,
    unique_id: `${opts.topics.nodeId}_${opts.objectId}`,
    state_topic: opts.stateTopic,
    value_template: `{{ value_json.${spec.key} }}`,
    availability_topic: opts.topics.availability,
    payload_available: AVAILABLE,
    payload_not_available: UNAVAILABLE,
    ...(spec.deviceClass !== null ? { device_class: spec.deviceClass } : {}),
    ...(spec.stateClass !== null ? { state_class: spec.stateClass } : {}),
    ...(spec.unit !== null ? { unit_of_measurement: spec.unit } : {}),
    ...(spec.options !== undefined ? { options: [...spec.options] } : {}),
    icon: spec.icon,
    device: device(opts.identity),
    origin: { name: 'Net-Pulse', sw_version: opts.identity.version },
  };
}

export function interfaceDiscovery(name: string, identity: MqttIdentity, topics: MqttTopics): DiscoveryMessage[] {
  return INTERFACE_SENSORS.map((spec) => {
    const objectId = `${topicSafe(name)}_${spec.key}`;
    return { objectId, topic: topics.discovery(objectId), config: sensorConfig(spec, { objectId, name: `${name} ${spec.name}`, stateTopic: topics.interfaceState(name), identity, topics }) };
  });
}

/** The instance's sensors: the collector state, and the data cap's percent when a cap is set. */
export function instanceDiscovery(identity: MqttIdentity, topics: MqttTopics, options: { hasCap: boolean }): DiscoveryMessage[] {
  return [COLLECTOR_SENSOR, ...(options.hasCap ? [CAP_SENSOR] : [])].map((spec) => ({
    objectId: spec.key,
    topic: topics.discovery(spec.key),
    config: sensorConfig(spec, { objectId: spec.key, name: spec.name, stateTopic: topics.instanceState, identity, topics }),
  }));
}

/** JSON with bigints written as exact integers (JSON.stringify refuses them; Number() would round past 2^53). */
export function jsonExact(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000bigint${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

export function interfaceStatePayload(v: InterfaceValues): string {
  return jsonExact({
    interface: v.name,
    rx_bytes_per_sec: v.rxBytesPerSec,
    tx_bytes_per_sec: v.txBytesPerSec,
    today_rx_bytes: v.todayRxBytes,
    today_tx_bytes: v.todayTxBytes,
    month_rx_bytes: v.monthRxBytes,
    month_tx_bytes: v.monthTxBytes,
    month_start: v.monthStart,
  });
}

export function instanceStatePayload(v: InstanceValues): string {
  return jsonExact({ collector: v.collector, cap_used_percent: v.capUsedPercent, last_poll_at: v.lastPollAt });
}
