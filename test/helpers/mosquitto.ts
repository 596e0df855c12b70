/**
 * A real MQTT broker for tests: Debian's mosquitto on a spare port of 127.0.0.1, with its own config file
 * in a temporary folder; stopped by its PID (never by name) in scope.after.
 *
 *   const broker = await startMosquitto(t);             // broker.url = mqtt://127.0.0.1:<port>
 *   const sub = await subscribe(t, broker.url, '#');     // every message, retained ones first
 *   await broker.stop(); await broker.start();           // a broker restart on the same port
 *
 * With users, anonymous clients are refused and each user gets its password (mosquitto_passwd -b).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { CleanupScope } from './server.js';
import { waitFor } from './server.js';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? null;
export const NO_MOSQUITTO = MOSQUITTO === null ? 'mosquitto is not installed (Debian package mosquitto; .ci/run installs it)' : false;

export interface Broker {
  readonly url: string;
  readonly port: number;
  readonly pid: number | null;
  start(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(scope: CleanupScope, options: { users?: Record<string, string> } = {}): Promise<Broker> {
  if (MOSQUITTO === null) throw new Error('mosquitto is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'np12-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
  // Started as root, mosquitto drops to the user "mosquitto", which cannot read our private temp folder.
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.users !== undefined) {
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const [user, password] of Object.entries(options.users)) {
      const r = spawnSync('mosquitto_passwd', ['-b', passwd, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    lines.push('allow_anonymous false', `password_file ${passwd}`);
  } else {
    lines.push('allow_anonymous true');
  }
  writeFileSync(conf, lines.join('\n') + '\n');

  let child: ChildProcess | null = null;
  let stderr = '';
  const broker: Broker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      if (child !== null) return;
      stderr = '';
      const c = spawn(MOSQUITTO!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      c.once('exit', () => {
        if (child === c) child = null;
      });
      await waitFor(`mosquitto to listen on ${port}`, async () => {
        if (child !== c) throw new Error(`mosquitto exited: ${stderr}`);
        return accepts(port);
      }, 15_000, 50);
    },
    async stop() {
      const c = child;
      if (c === null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      child = null;
      // The port is free again once nothing accepts on it.
      await waitFor(`port ${port} to close`, async () => !(await accepts(port)), 10_000, 50);
    },
  };
  scope.after(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await broker.start();
  return broker;
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  atMs: number;
}

export interface Subscriber {
  client: MqttClient;
  /** Every message so far, oldest first. */
  readonly messages: Received[];
  /** The newest payload per topic (retained state as a Home Assistant sees it; '' = deleted). */
  latest(topic: string): string | undefined;
  topics(prefix: string): string[];
  close(): Promise<void>;
}

/** An MQTT client subscribed to `filter`, recording every message; reconnects by itself (1 s). */
export async function subscribe(scope: CleanupScope, url: string, filter: string, auth: { username?: string; password?: string } = {}): Promise<Subscriber> {
  const client = mqtt.connect(url, { ...auth, reconnectPeriod: 500, connectTimeout: 5000, resubscribe: true });
  const messages: Received[] = [];
  const latest = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain, atMs: Date.now() });
    latest.set(topic, payload.toString());
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error('test subscriber could not connect')), 10_000).unref();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  const sub: Subscriber = {
    client,
    messages,
    latest: (topic) => latest.get(topic),
    topics: (prefix) => [...latest.keys()].filter((t) => t.startsWith(prefix)).sort(),
    async close() {
      await client.endAsync(true).catch(() => undefined);
    },
  };
  scope.after(() => sub.close());
  return sub;
}
