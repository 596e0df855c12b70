/**
 * The MQTT publisher: connects to NETPULSE_MQTT_URL (the `mqtt` package, imported only when this file is),
 * announces the sensors to Home Assistant, and publishes the state topics every NETPULSE_MQTT_INTERVAL
 * seconds, all retained. The broker keeps "offline" on the availability topic as the last will, so a crash
 * (even kill -9) is seen; a clean stop publishes it itself.
 *
 * Never in anyone's way: nothing is queued while the broker is away (the next connect publishes the
 * current state anyway), reconnects back off from 1 s to 60 s, an outage is logged once when it starts
 * and once when it ends, and close() takes at most closeTimeoutMs.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/config.js';
import type { Logger } from '../shared/logger.js';
import {
  AVAILABLE,
  UNAVAILABLE,
  instanceDiscovery,
  instanceStatePayload,
  interfaceDiscovery,
  interfaceStatePayload,
  mqttTopics,
  type DiscoveryMessage,
  type MqttIdentity,
  type MqttTopics,
} from './home-assistant.js';
import type { MqttSnapshot } from './mqtt-values.js';

/** Where the discovery object ids published last time are kept, so a restart can clear the stale ones. */
export interface PublishedStore {
  load(): string[];
  save(objectIds: string[]): void;
}

export interface MqttPublisherDeps {
  config: MqttConfig;
  identity: MqttIdentity;
  snapshot: () => Promise<MqttSnapshot>;
  /** Whether a data cap is set (its sensor exists only then). */
  hasCap: () => boolean;
  published: PublishedStore;
  logger: Logger;
  closeTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface MqttPublisherStatus {
  connected: boolean;
  /** Successful state publications since start. */
  publishes: number;
  lastPublishAtMs: number | null;
}

export interface MqttPublisher {
  readonly topics: MqttTopics;
  /** Publishes the current state now (when connected); resolves when it was handed to the socket. */
  publishNow(): Promise<void>;
  status(): MqttPublisherStatus;
  close(): Promise<void>;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function startMqttPublisher(deps: MqttPublisherDeps): MqttPublisher {
  const { config, identity, logger } = deps;
  const topics = mqttTopics(identity, config);
  const minBackoffMs = deps.minBackoffMs ?? 1000;
  const maxBackoffMs = deps.maxBackoffMs ?? 60_000;
  let backoffMs = minBackoffMs;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let outage = false;
  let everConnected = false;
  let stopping = false;
  let busy: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let publishes = 0;
  let lastPublishAtMs: number | null = null;
  /** Discovery configs the broker holds for us: object id → the JSON last sent. */
  let announced = new Map<string, string>(deps.published.load().map((id) => [id, '']));

  const client: MqttClient = mqtt.connect(config.url, {
    clientId: `${topics.nodeId}_${process.pid}`,
    ...(config.username !== null ? { username: config.username } : {}),
    ...(config.password !== null ? { password: config.password } : {}),
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    // Reconnects are ours (with backoff); nothing waits in a queue for a broker that is away.
    reconnectPeriod: 0,
    queueQoSZero: false,
    will: { topic: topics.availability, payload: Buffer.from(UNAVAILABLE), qos: 1, retain: true },
  });

  const noteOutage = (why: string) => {
    if (outage || stopping) return;
    outage = true;
    logger.warn({ broker: config.url, err: why }, everConnected ? 'MQTT broker lost; retrying with backoff' : 'MQTT broker unreachable; retrying with backoff');
  };

  client.on('error', (err) => noteOutage(errorText(err)));
  client.on('close', () => {
    for (const fail of [...pending]) fail(new Error('connection closed'));
    if (stopping) return;
    noteOutage('connection closed');
    if (reconnectTimer !== null) return;
    const wait = backoffMs;
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (!stopping) client.reconnect();
    }, wait);
    reconnectTimer.unref();
  });
  client.on('connect', () => {
    backoffMs = minBackoffMs;
    if (outage) logger.info({ broker: config.url }, 'MQTT broker reachable again');
    else if (!everConnected) logger.info({ broker: config.url, prefix: topics.prefix }, 'MQTT: connected, publishing with Home Assistant discovery');
    outage = false;
    everConnected = true;
    // Home Assistant asks for the configs again when it restarts (its birth message).
    client.subscribe(`${topics.discoveryPrefix}/status`, { qos: 0 }, () => undefined);
    // Everything again on each connect: the broker may have lost its retained messages.
    for (const k of announced.keys()) announced.set(k, '');
    void publishNow();
  });
  client.on('message', (topic, payload) => {
    if (topic === `${topics.discoveryPrefix}/status` && payload.toString() === 'online') {
      for (const k of announced.keys()) announced.set(k, '');
      void publishNow();
    }
  });

  /** Publications waiting for the broker's answer: a lost connection fails them, so no cycle hangs on it. */
  const pending = new Set<(err: Error) => void>();
  const publish = (topic: string, payload: string, qos: 0 | 1 = 0) =>
    new Promise<void>((resolve, reject) => {
      if (!client.connected) return reject(new Error('not connected'));
      const fail = (err: Error) => {
        pending.delete(fail);
        reject(err);
      };
      pending.add(fail);
      client.publish(topic, payload, { qos, retain: true }, (err) => {
        pending.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });

  async function announce(messages: DiscoveryMessage[], removed: string[]): Promise<void> {
    for (const m of messages) {
      const text = JSON.stringify(m.config);
      if (announced.get(m.objectId) === text) continue;
      await publish(m.topic, text, 1);
      announced.set(m.objectId, text);
    }
    for (const id of removed) {
      // An empty retained config removes the entity from Home Assistant (and the retained message from the broker).
      await publish(topics.discovery(id), '', 1);
      announced.delete(id);
    }
  }

  async function cycle(): Promise<void> {
    const snap = await deps.snapshot();
    const hasCap = deps.hasCap();
    const messages = [...instanceDiscovery(identity, topics, { hasCap }), ...snap.interfaces.flatMap((i) => interfaceDiscovery(i.name, identity, topics))];
    const wanted = new Set(messages.map((m) => m.objectId));
    const removed = [...announced.keys()].filter((id) => !wanted.has(id));
    const before = [...announced.keys()].sort().join('\n');
    await announce(messages, removed);
    if ([...announced.keys()].sort().join('\n') !== before) deps.published.save([...announced.keys()].sort());
    await publish(topics.availability, AVAILABLE, 1);
    await publish(topics.instanceState, instanceStatePayload(snap.instance));
    for (const i of snap.interfaces) await publish(topics.interfaceState(i.name), interfaceStatePayload(i));
    publishes++;
    lastPublishAtMs = Date.now();
  }

  function publishNow(): Promise<void> {
    if (!client.connected || stopping) return Promise.resolve();
    // One cycle at a time; a tick that finds one running waits for it.
    busy ??= cycle()
      .catch((err: unknown) => logger.warn({ err: errorText(err) }, 'MQTT: publishing failed; the next cycle tries again'))
      .finally(() => {
        busy = null;
      });
    return busy;
  }

  async function stop(): Promise<void> {
    clearInterval(timer);
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    // Not unref'd: the stop must go on to its end even when nothing else keeps the process alive.
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (deadlineTimer = setTimeout(resolve, deps.closeTimeoutMs ?? 2000)));
    const polite = (async () => {
      await busy;
      stopping = true;
      if (client.connected) await publish(topics.availability, UNAVAILABLE, 1);
      await client.endAsync();
    })().catch(() => undefined);
    await Promise.race([polite, deadline]);
    clearTimeout(deadlineTimer);
    stopping = true;
    client.end(true);
  }

  const timer = setInterval(() => void publishNow(), config.intervalSec * 1000);
  timer.unref();

  return {
    topics,
    publishNow,
    status: () => ({ connected: client.connected, publishes, lastPublishAtMs }),
    close() {
      closing ??= stop();
      return closing;
    },
  };
}
