import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { interfaceDiscovery, jsonExact, mqttTopics } from '../../src/mqtt/home-assistant.js';
import { sampleRates } from '../../src/mqtt/mqtt-values.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('MQTT is off without NETPULSE_MQTT_URL', () => {
  assert.equal(loadConfig({}).mqtt, null);
});

test('NETPULSE_MQTT_URL takes the credentials from the URL, else from NETPULSE_MQTT_USERNAME/_PASSWORD, and keeps them out of the URL', () => {
  const inUrl = loadConfig({ NETPULSE_MQTT_URL: 'mqtts://ha%40home:p%3Ass@broker.lan:8883', NETPULSE_MQTT_USERNAME: 'other' }).mqtt!;
  assert.deepEqual([inUrl.url, inUrl.username, inUrl.password], ['mqtts://broker.lan:8883', 'ha@home', 'p:ss']);
  const fromEnv = loadConfig({ NETPULSE_MQTT_URL: 'mqtt://broker.lan', NETPULSE_MQTT_USERNAME: 'netpulse', NETPULSE_MQTT_PASSWORD: 'secret' }).mqtt!;
  assert.deepEqual([fromEnv.url, fromEnv.username, fromEnv.password, fromEnv.intervalSec, fromEnv.topicPrefix, fromEnv.discoveryPrefix], ['mqtt://broker.lan', 'netpulse', 'secret', 30, null, 'homeassistant']);
  const tuned = loadConfig({ NETPULSE_MQTT_URL: 'mqtt://b', NETPULSE_MQTT_INTERVAL: '5', NETPULSE_MQTT_TOPIC_PREFIX: 'home/net/', NETPULSE_MQTT_DISCOVERY_PREFIX: 'ha' }).mqtt!;
  assert.deepEqual([tuned.intervalSec, tuned.topicPrefix, tuned.discoveryPrefix], [5, 'home/net', 'ha']);
});

test('a bad MQTT setting stops the start naming the variable, and never echoes a password', () => {
  const bad: [Record<string, string>, string][] = [
    [{ NETPULSE_MQTT_URL: 'http://u:hunter2@broker' }, 'NETPULSE_MQTT_URL'],
    [{ NETPULSE_MQTT_URL: 'not a url hunter2' }, 'NETPULSE_MQTT_URL'],
    [{ NETPULSE_MQTT_URL: 'mqtt://broker/some/path' }, 'NETPULSE_MQTT_URL'],
    [{ NETPULSE_MQTT_URL: 'mqtt://b', NETPULSE_MQTT_INTERVAL: '0' }, 'NETPULSE_MQTT_INTERVAL'],
    [{ NETPULSE_MQTT_URL: 'mqtt://b', NETPULSE_MQTT_TOPIC_PREFIX: 'home/#' }, 'NETPULSE_MQTT_TOPIC_PREFIX'],
    [{ NETPULSE_MQTT_URL: 'mqtt://b', NETPULSE_MQTT_DISCOVERY_PREFIX: 'a//b' }, 'NETPULSE_MQTT_DISCOVERY_PREFIX'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable && !err.message.includes('hunter2'), JSON.stringify(env));
  }
});

test('topics keep interface names that MQTT would read as wildcards or levels out of the topic', () => {
  const topics = mqttTopics({ deviceId: 'abcdef12-3456-4789-8abc-def012345678' }, { topicPrefix: null, discoveryPrefix: 'homeassistant' });
  assert.equal(topics.nodeId, 'netpulse_abcdef123456');
  assert.equal(topics.interfaceState('wg+0#'), 'netpulse/netpulse_abcdef123456/interface/wg_0_/state');
  const ids = interfaceDiscovery('br.lan', { deviceId: 'x', deviceName: 'n', version: '1', url: null }, topics).map((m) => m.topic);
  assert.ok(ids.every((t) => /^homeassistant\/sensor\/netpulse_abcdef123456\/[A-Za-z0-9_-]+\/config$/.test(t)), ids.join(' '));
});

test('jsonExact writes bigints as exact JSON integers', () => {
  assert.equal(jsonExact({ a: 2n ** 64n + 1n, b: 'x', c: [1n] }), '{"a":18446744073709551617,"b":"x","c":[1]}');
});

test('sampleRates is bytes over the span of a sample from the newest poll, and 0 for an older one', () => {
  const row = { interface_name: 'eth0', timestamp: 1000, span_seconds: 4, rx_bytes: 400, tx_bytes: 10 } as never;
  assert.deepEqual(sampleRates(row, 1_000_000), { rxBytesPerSec: 100, txBytesPerSec: 2.5 });
  assert.deepEqual(sampleRates(row, 1_030_000), { rxBytesPerSec: 0, txBytesPerSec: 0 });
  assert.deepEqual(sampleRates(undefined, 1_000_000), { rxBytesPerSec: 0, txBytesPerSec: 0 });
});

test('the server loads the mqtt package only when MQTT is configured', () => {
  const probe = `await import('./src/server.ts');
const { createRequire } = await import('node:module');
process.stdout.write(String(Object.keys(createRequire(import.meta.url).cache).some((f) => /[\\\\/]node_modules[\\\\/]mqtt[\\\\/]/.test(f))));`;
  const loaded = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
  assert.equal(loaded, 'false');
  const withMqtt = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe.replace("'./src/server.ts'", "'./src/mqtt/mqtt-publisher.ts'")], { cwd: root, encoding: 'utf8' });
  assert.equal(withMqtt, 'true', 'the probe sees the package when it is loaded');
});
