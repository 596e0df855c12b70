/**
 * MQTT and Home Assistant against a real broker (Debian's mosquitto, started here): the discovery configs,
 * state values equal to the API's answers, removal when an interface stops being monitored, the data cap
 * sensor, reconnects after a broker restart, an outage logged once, a bounded stop, and the last will
 * when Net-Pulse is killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { startMqttPublisher } from '../../src/mqtt/mqtt-publisher.js';
import type { MqttSnapshot } from '../../src/mqtt/mqtt-values.js';
import type { LogFn, Logger } from '../../src/shared/logger.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { NO_MOSQUITTO, startMosquitto, subscribe, type Subscriber } from '../helpers/mosquitto.js';
import { DEFAULT_TREE, startTestServer, waitFor, type TestServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const WAIT_MS = 20_000;

const json = (text: string | undefined): any => (text === undefined || text === '' ? undefined : JSON.parse(text));

/** The node id the server uses in its discovery topics (netpulse_<first 12 hex of the device id>). */
async function nodeIdOf(srv: TestServer): Promise<string> {
  return `netpulse_${srv.server.ctx.device.deviceId.replace(/-/g, '').slice(0, 12)}`;
}

async function mqttServer(t: test.TestContext, brokerUrl: string, extra: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(t, { env: { NETPULSE_MQTT_URL: brokerUrl, NETPULSE_MQTT_INTERVAL: '1', NETPULSE_DEVICE_NAME: 'lab-router', ...extra } });
}

async function discoveryConfigs(sub: Subscriber, nodeId: string, count: number): Promise<Map<string, any>> {
  return waitFor(`${count} discovery configs of ${nodeId}`, () => {
    const topics = sub.topics(`homeassistant/sensor/${nodeId}/`).filter((tp) => sub.latest(tp) !== '');
    return topics.length >= count ? new Map(topics.map((tp) => [tp.split('/')[3]!, json(sub.latest(tp))])) : undefined;
  }, WAIT_MS);
}

describe('MQTT with Home Assistant discovery, against mosquitto', { skip: NO_MOSQUITTO }, () => {
  test('announces one device with correctly classed sensors per monitored interface, and publishes the values the API answers', async (t) => {
    const broker = await startMosquitto(t);
    const sub = await subscribe(t, broker.url, '#');
    const srv = await mqttServer(t, broker.url);
    const nodeId = await nodeIdOf(srv);
    const prefix = `netpulse/${nodeId}`;
    // A sample stamped within the baseline's second would have a span of 0 s, and no rate: let 2 s pass.
    const startedAtMs = Date.now();
    await waitFor('2 s after the baseline', () => Date.now() - startedAtMs >= 2000, 5000, 100);
    srv.advance('eth0', { rxBytes: 3_000_000n, txBytes: 120_000n, rxPackets: 2000n, txPackets: 900n });
    srv.advance('wlan0', { rxBytes: 4096n, txBytes: 512n });
    await srv.collect();

    // 6 sensors per interface (eth0, wlan0) + the collector state; no data cap, so no cap sensor.
    const configs = await discoveryConfigs(sub, nodeId, 13);
    assert.deepEqual([...configs.keys()].sort(), [
      'collector',
      'eth0_month_rx_bytes', 'eth0_month_tx_bytes', 'eth0_rx_bytes_per_sec', 'eth0_today_rx_bytes', 'eth0_today_tx_bytes', 'eth0_tx_bytes_per_sec',
      'wlan0_month_rx_bytes', 'wlan0_month_tx_bytes', 'wlan0_rx_bytes_per_sec', 'wlan0_today_rx_bytes', 'wlan0_today_tx_bytes', 'wlan0_tx_bytes_per_sec',
    ]);
    const devices = new Set([...configs.values()].map((c) => JSON.stringify(c.device)));
    assert.equal(devices.size, 1, 'one device for the whole instance');
    const dev = configs.get('collector').device;
    assert.equal(dev.name, 'lab-router');
    assert.deepEqual(dev.identifiers, [`netpulse_${srv.server.ctx.device.deviceId}`]);
    assert.equal(new Set([...configs.values()].map((c) => c.unique_id)).size, configs.size, 'unique ids are unique');
    for (const [id, c] of configs) {
      assert.equal(c.availability_topic, `${prefix}/availability`, id);
      if (id.endsWith('_per_sec')) {
        assert.deepEqual([c.device_class, c.state_class, c.unit_of_measurement], ['data_rate', 'measurement', 'B/s'], id);
      } else if (id.includes('_today_') || id.includes('_month_')) {
        assert.deepEqual([c.device_class, c.state_class, c.unit_of_measurement], ['data_size', 'total_increasing', 'B'], id);
      }
    }
    assert.equal(configs.get('eth0_rx_bytes_per_sec').state_topic, `${prefix}/interface/eth0/state`);
    assert.equal(configs.get('eth0_rx_bytes_per_sec').value_template, '{{ value_json.rx_bytes_per_sec }}');
    assert.deepEqual([configs.get('collector').device_class, configs.get('collector').options], ['enum', ['polling', 'failing', 'stopped']]);
    assert.equal(sub.latest(`${prefix}/availability`), 'online');
    assert.ok(sub.messages.some((m) => m.topic === `${prefix}/availability` && m.retain === false), 'availability arrives live');

    // The values equal the API's: the newest sample's rate, today's and this billing month's totals.
    const latest = (await srv.get('/api/traffic/latest?interface=eth0')).body.data[0];
    const day = (await srv.get('/api/usage?period=day&interface=eth0&limit=1')).body.rows[0];
    const month = (await srv.get('/api/usage?period=month&interface=eth0&limit=1')).body.rows[0];
    const state = await waitFor('eth0 state with the counted traffic', () => {
      const s = json(sub.latest(`${prefix}/interface/eth0/state`));
      return s !== undefined && s.today_rx_bytes === 3_000_000 ? s : undefined;
    }, WAIT_MS);
    assert.equal(state.rx_bytes_per_sec, Number(latest.rx_bytes) / Number(latest.span_seconds));
    assert.equal(state.tx_bytes_per_sec, Number(latest.tx_bytes) / Number(latest.span_seconds));
    assert.ok(Number(latest.span_seconds) >= 1 && state.rx_bytes_per_sec > 0);
    assert.deepEqual([BigInt(state.today_rx_bytes), BigInt(state.today_tx_bytes)], [day.rx_bytes, day.tx_bytes]);
    assert.deepEqual([BigInt(state.month_rx_bytes), BigInt(state.month_tx_bytes)], [month.rx_bytes, month.tx_bytes]);
    assert.equal(state.month_start, month.start_date);
    const instance = json(sub.latest(`${prefix}/state`));
    assert.equal(instance.collector, 'polling');
    assert.equal(instance.cap_used_percent, null);
    // Retained: a client that subscribes now gets the state at once.
    const late = await subscribe(t, broker.url, `${prefix}/#`);
    await waitFor('retained state for a late subscriber', () => late.latest(`${prefix}/interface/eth0/state`) !== undefined, WAIT_MS);
  });

  test('an interface that stops being monitored loses its sensors (empty retained configs); a data cap adds its sensor', async (t) => {
    const broker = await startMosquitto(t);
    const sub = await subscribe(t, broker.url, '#');
    const srv = await mqttServer(t, broker.url);
    const nodeId = await nodeIdOf(srv);
    const latestState = () => sub.latest(`netpulse/${nodeId}/state`);
    await discoveryConfigs(sub, nodeId, 13);
    const put = await srv.put('/api/config/interfaces', { interfaces: ['eth0'] });
    assert.equal(put.status, 200, put.text);
    await waitFor('wlan0 sensors removed', () => sub.topics(`homeassistant/sensor/${nodeId}/wlan0_`).every((tp) => sub.latest(tp) === ''), WAIT_MS);
    assert.equal(sub.topics(`homeassistant/sensor/${nodeId}/wlan0_`).length, 6);
    assert.ok(sub.topics(`homeassistant/sensor/${nodeId}/eth0_`).every((tp) => sub.latest(tp) !== ''), 'eth0 keeps its sensors');
    // The broker no longer holds them: a new subscriber sees eth0's and the collector's only.
    const fresh = await subscribe(t, broker.url, `homeassistant/sensor/${nodeId}/+/config`);
    await waitFor('retained configs', () => fresh.topics('homeassistant/').length >= 7, WAIT_MS);
    assert.equal(fresh.topics(`homeassistant/sensor/${nodeId}/wlan0_`).length, 0);

    srv.advance('eth0', { rxBytes: 250_000_000n });
    await srv.collect();
    const cap = await srv.put('/api/config/data-cap', { limit_bytes: 1_000_000_000 });
    assert.equal(cap.status, 200, cap.text);
    const capConfig = await waitFor('the cap sensor', () => json(sub.latest(`homeassistant/sensor/${nodeId}/cap_used_percent/config`)), WAIT_MS);
    assert.deepEqual([capConfig.unit_of_measurement, capConfig.state_class], ['%', 'measurement']);
    const status = (await srv.get('/api/config/data-cap')).body.status;
    const instance = await waitFor('the cap percent in the state', () => {
      const st = json(latestState());
      return st !== undefined && st.cap_used_percent !== null ? st : undefined;
    }, WAIT_MS);
    assert.equal(instance.cap_used_percent, Number(status.percent_used));
    assert.equal(instance.cap_used_percent, 25);
  });

  test('reconnects after the broker restarts, and publishes its state again', async (t) => {
    const broker = await startMosquitto(t);
    const srv = await mqttServer(t, broker.url);
    const nodeId = await nodeIdOf(srv);
    const before = await subscribe(t, broker.url, `netpulse/${nodeId}/#`);
    await waitFor('online', () => before.latest(`netpulse/${nodeId}/availability`) === 'online', WAIT_MS);
    await before.close();
    await broker.stop();
    await waitFor('the publisher to notice', () => srv.server.mqtt!.status().connected === false, WAIT_MS);
    // The collector goes on while the broker is away.
    srv.advance('eth0', { rxBytes: 777n });
    await srv.collect();
    await broker.start();
    // persistence is off: everything this broker holds was published after it came back.
    const after = await subscribe(t, broker.url, '#');
    const state = await waitFor('the state after the restart', () => json(after.latest(`netpulse/${nodeId}/interface/eth0/state`)), 90_000);
    assert.equal(state.today_rx_bytes, 777);
    assert.equal(after.latest(`netpulse/${nodeId}/availability`), 'online');
    await waitFor('discovery again', () => after.topics(`homeassistant/sensor/${nodeId}/`).length >= 13, WAIT_MS);
  });

  test('a clean stop publishes offline; SIGKILL of the process leaves offline as the broker\'s last will', async (t) => {
    const broker = await startMosquitto(t);
    const sub = await subscribe(t, broker.url, 'netpulse/+/availability');
    const srv = await mqttServer(t, broker.url);
    const topic = `netpulse/${await nodeIdOf(srv)}/availability`;
    await waitFor('online', () => sub.latest(topic) === 'online', WAIT_MS);
    await srv.stop();
    assert.equal(await waitFor('offline after a clean stop', () => sub.latest(topic) === 'offline' && sub.latest(topic), WAIT_MS), 'offline');

    // The same database in a separate `netpulse serve` process, killed with SIGKILL: no chance to say goodbye.
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'serve'], {
      cwd: ROOT,
      env: { ...process.env, ...srv.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const onlineAgain = sub.messages.length;
    await waitFor(`the child to come online (${stderr})`, () => sub.messages.slice(onlineAgain).some((m) => m.topic === topic && m.payload === 'online'), 60_000);
    const beforeKill = sub.messages.length;
    child.kill('SIGKILL');
    await exited;
    await waitFor('the last will', () => sub.messages.slice(beforeKill).some((m) => m.topic === topic && m.payload === 'offline'), WAIT_MS);
    assert.equal(sub.latest(topic), 'offline');
  });
});

/** A logger that records what it is given. */
function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string): LogFn => ((a: unknown, b?: string) => void lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') })) as LogFn;
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const SNAPSHOT: MqttSnapshot = {
  interfaces: [{ name: 'eth0', rxBytesPerSec: 10, txBytesPerSec: 2, todayRxBytes: 1n, todayTxBytes: 2n, monthRxBytes: 3n, monthTxBytes: 2n ** 60n, monthStart: '2026-12-01' }],
  instance: { collector: 'polling', capUsedPercent: null, lastPollAt: null },
};

function publisherFor(url: string, logger: Logger, extra: { username?: string; password?: string } = {}) {
  let saved: string[] = [];
  return startMqttPublisher({
    config: { url, username: extra.username ?? null, password: extra.password ?? null, intervalSec: 1, topicPrefix: 'np12test', discoveryPrefix: 'homeassistant' },
    identity: { deviceId: '12121212-0000-4000-8000-000000000012', deviceName: 'test', version: '0.0.0', url: null },
    snapshot: async () => SNAPSHOT,
    hasCap: () => false,
    published: { load: () => saved, save: (ids) => (saved = ids) },
    logger,
    minBackoffMs: 20,
    maxBackoffMs: 200,
    closeTimeoutMs: 1000,
  });
}

describe('the MQTT publisher when the broker is away or refuses', { skip: NO_MOSQUITTO }, () => {
  test('an outage is logged once however many retries it takes, its end once, and state is exact past 2^53', async (t) => {
    const broker = await startMosquitto(t);
    await broker.stop();
    const logger = recordingLogger();
    const pub = publisherFor(broker.url, logger);
    t.after(() => pub.close());
    // Retries back off from 20 ms: wait for several attempts' worth of failures.
    await waitFor('the first warning', () => logger.lines.some((l) => l.level === 'warn'), WAIT_MS);
    const startedAt = Date.now();
    await waitFor('a few retries', () => Date.now() - startedAt > 1000, 5000, 100);
    assert.equal(logger.lines.filter((l) => l.level === 'warn').length, 1, JSON.stringify(logger.lines));
    await broker.start();
    const sub = await subscribe(t, broker.url, 'np12test/#');
    const state = await waitFor('state after the outage', () => sub.latest('np12test/interface/eth0/state'), WAIT_MS);
    assert.match(state, /"month_tx_bytes":1152921504606846976[,}]/, 'a bigint is written as an exact JSON integer');
    assert.deepEqual(logger.lines.filter((l) => l.level === 'warn').length, 1);
    assert.equal(logger.lines.filter((l) => /reachable again/.test(l.msg)).length, 1);
  });

  test('a broker that refuses the credentials is retried with backoff, logged once, and close() still returns', async (t) => {
    const broker = await startMosquitto(t, { users: { netpulse: 'right' } });
    const logger = recordingLogger();
    const pub = publisherFor(broker.url, logger, { username: 'netpulse', password: 'wrong' });
    await waitFor('the refusal logged', () => logger.lines.some((l) => l.level === 'warn'), WAIT_MS);
    const startedAt = Date.now();
    await waitFor('a few retries', () => Date.now() - startedAt > 1000, 5000, 100);
    assert.equal(logger.lines.filter((l) => l.level === 'warn').length, 1);
    assert.equal(pub.status().connected, false);
    await pub.close();
    // With the right password the same broker accepts it.
    const ok = publisherFor(broker.url, recordingLogger(), { username: 'netpulse', password: 'right' });
    t.after(() => ok.close());
    await waitFor('connected with the right password', () => ok.status().connected, WAIT_MS);
  });

  test('close() returns while the broker is down', async (t) => {
    const broker = await startMosquitto(t);
    const pub = publisherFor(broker.url, recordingLogger());
    await waitFor('connected', () => pub.status().connected, WAIT_MS);
    await broker.stop();
    await pub.close();
    assert.equal(pub.status().connected, false);
  });
});
