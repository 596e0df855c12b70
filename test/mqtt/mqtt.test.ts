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
});
