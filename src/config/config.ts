/**
 * Net-Pulse's configuration: read from the environment once, at start, into one typed and checked object.
 * A bad value stops the process with a message naming the variable and the range it accepts.
 * Every key is documented here and in the README's configuration table.
 */
import os from 'node:os';
import { checkTemplate } from '../alerts/delivery.js';
import path from 'node:path';
import { parseCidr, type Cidr } from './cidr.js';
import { zoneinfoOf } from './zoneinfo.js';

export const POLL_INTERVAL_MIN_SEC = 1;
export const POLL_INTERVAL_MAX_SEC = 3600;
export const DEFAULT_POLL_INTERVAL_SEC = 30;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RetentionConfig {
  /** How long raw samples (one row per poll and interface) are kept. */
  rawHours: number;
  /** How long the 1-minute rollup is kept. */
  minuteDays: number;
  /** How long the 1-hour rollup is kept. */
  hourDays: number;
  /** How long the calendar-day rollup is kept; 0 keeps it forever. */
  dayDays: number;
}

export interface Config {
  host: string;
  port: number;
  logLevel: LogLevel;
  dbPath: string;
  /** NETPULSE_POLL_INTERVAL when set: it wins over the stored setting. */
  pollIntervalSecOverride: number | null;
  /** NETPULSE_COMMIT_INTERVAL: polls are committed together at most this often (0: every poll; issue #13). */
  commitIntervalSec: number;
  timezone: string;
  procRoot: string;
  sysRoot: string;
  authToken: string | null;
  corsOrigins: string[];
  retention: RetentionConfig;
  /** Where the built dashboard lives (served at /). */
  frontendDir: string;
  /** Usage accounting and the data cap (issue #5). */
  usage: UsageConfig;
  /** This instance's name in the all-devices view (NETPULSE_DEVICE_NAME, default the host name). */
  deviceName: string;
  /** Replication of the rollups to PostgreSQL (NETPULSE_SYNC_*). */
  sync: SyncConfig;
  /** Per-host totals, flows and their classification (issue #9): off unless NETPULSE_FLOWS=on. */
  flows: FlowsConfig;
  /** NETPULSE_QOS=on: QoS may change the machine's qdiscs and nftables (issue #10). Default off. */
  qosEnabled: boolean;
  /** NETPULSE_LINK_EVENTS (default on): listen to rtnetlink link events on Linux (issue #8). */
  linkEvents: boolean;
  /** Publishing to an MQTT broker with Home Assistant discovery (NETPULSE_MQTT_*); null: off. */
  mqtt: MqttConfig | null;
  /** Where rule alerts go besides NETPULSE_ALERT_WEBHOOK_URL (issue #12). */
  alertChannels: { ntfyUrl: string | null; template: { url: string; body: string } | null };
  /** NETPULSE_INTERFACES split on commas (`-name` excludes, `*` globs): the monitored set, over the stored one; null: the stored set. */
  monitorInterfaces: string[] | null;
}

export interface MqttConfig {
  /** mqtt://host[:port] or mqtts://…, without the credentials (they are in username/password). */
  url: string;
  username: string | null;
  password: string | null;
  intervalSec: number;
  /** Where the state and availability topics live: <topicPrefix>/…; default netpulse/<node id>. */
  topicPrefix: string | null;
  /** Home Assistant's discovery prefix (default homeassistant). */
  discoveryPrefix: string;
}

export interface FlowsConfig {
  /** NETPULSE_FLOWS=on: the nft table, per-host totals and the flows table (default off). */
  enabled: boolean;
  /** NETPULSE_CLASSIFY=on: label flows from DNS answers and TLS server names (default off: a privacy choice). */
  classify: boolean;
  /** NETPULSE_LAN_CIDRS: which addresses are "our" hosts. */
  lanCidrs: Cidr[];
  /** NETPULSE_FLOW_RETENTION_DAYS: how long flow names and details are kept (1–3650, default 7). */
  retentionDays: number;
  /** NETPULSE_DHCP_LEASES: a dnsmasq or odhcpd leases file that names hosts; null: none. */
  leasesPath: string | null;
  /** NETPULSE_FLOW_DUMP_SEC: the shortest time between two conntrack dumps (it grows with the dump's cost). */
  dumpIntervalSec: number;
}

export const DEFAULT_LAN_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fe80::/10'] as const;

export type ByteUnits = 'decimal' | 'binary';

export interface UsageConfig {
  /** NETPULSE_USAGE_INTERFACES split on commas (`-name` excludes, `*` globs); null: the default kinds. */
  interfaces: string[] | null;
  /** NETPULSE_MONTH_START_DAY (1–28); null: the stored setting, else 1. */
  monthStartDay: number | null;
  units: ByteUnits;
  /** NETPULSE_ALERT_WEBHOOK_URL: alerts are POSTed here as JSON. */
  alertWebhookUrl: string | null;
}

export interface SyncConfig {
  /** NETPULSE_SYNC_URL (postgres:// or postgresql://); null: no replication, no all-devices view. */
  url: string | null;
  intervalSec: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

interface VarDoc {
  name: string;
  default: string;
  description: string;
}

/** Every variable Net-Pulse reads, with its default: the README's table is made from this list. */
export const CONFIG_VARIABLES: readonly VarDoc[] = [
  { name: 'NETPULSE_HOST', default: '127.0.0.1', description: 'Address the server binds to. Anything but loopback exposes it: set NETPULSE_AUTH_TOKEN too.' },
  { name: 'NETPULSE_PORT', default: '8000', description: 'TCP port (0–65535; 0 picks a free one).' },
  { name: 'NETPULSE_LOG_LEVEL', default: 'info', description: `One of ${LOG_LEVELS.join(', ')}.` },
  { name: 'NETPULSE_DB_PATH', default: './data/netpulse.db', description: 'SQLite database file; its folder is created if missing.' },
  { name: 'NETPULSE_POLL_INTERVAL', default: '(unset: 30, or the value set from the API)', description: `Seconds between counter reads, ${POLL_INTERVAL_MIN_SEC}–${POLL_INTERVAL_MAX_SEC}. When set it wins over the setting stored from the API.` },
  { name: 'NETPULSE_TZ', default: "the system's time zone", description: 'IANA time zone for calendar-day buckets and usage periods, e.g. Europe/Berlin.' },
  { name: 'NETPULSE_PROC_ROOT', default: '/proc', description: 'Where to read /proc from (tests point it at a fixture tree).' },
  { name: 'NETPULSE_SYS_ROOT', default: '/sys', description: 'Where to read /sys from.' },
  { name: 'NETPULSE_AUTH_TOKEN', default: '(unset)', description: 'When set, every write (POST/PUT) needs `Authorization: Bearer <token>`.' },
  { name: 'NETPULSE_CORS_ORIGINS', default: '(unset: CORS closed)', description: 'Comma-separated origins allowed to call the API from a browser, e.g. https://dash.example.org.' },
  { name: 'NETPULSE_RETENTION_RAW_HOURS', default: '48', description: 'Hours of raw samples (one per poll) to keep, 1–8760.' },
  { name: 'NETPULSE_RETENTION_MINUTE_DAYS', default: '30', description: 'Days of 1-minute rollups to keep, 1–3650. Groupings under an hour reach back this far.' },
  { name: 'NETPULSE_RETENTION_HOUR_DAYS', default: '1825', description: 'Days of 1-hour rollups to keep, 1–36500.' },
  { name: 'NETPULSE_RETENTION_DAY_DAYS', default: '0', description: 'Days of calendar-day rollups to keep; 0 keeps them forever.' },
  { name: 'NETPULSE_USAGE_INTERFACES', default: '(unset: ethernet, wireless and other kinds)', description: 'Interfaces summed into the usage "total", comma-separated: `name` includes, `-name` excludes, `*` matches any characters (e.g. `-docker*,-wg0` or `eth0,wlan*`). Unset: every interface with stored traffic except loopback, container, tunnel, bridge and virtual ones.' },
  { name: 'NETPULSE_MONTH_START_DAY', default: '(unset: the value set from the API, else 1)', description: 'Day of the month (1–28) a billing month starts on, at local midnight. When set it wins over the setting stored from the API.' },
  { name: 'NETPULSE_USAGE_UNITS', default: 'decimal', description: 'How volumes are written for people (CLI, alert messages): decimal (1 GB = 10^9 bytes) or binary (1 GiB = 2^30 bytes).' },
  { name: 'NETPULSE_ALERT_WEBHOOK_URL', default: '(unset)', description: 'http(s) URL that data-cap alerts are POSTed to as JSON (retried with backoff).' },
  { name: 'NETPULSE_DEVICE_NAME', default: 'the host name', description: 'This instance\'s name in the all-devices view (1–64 characters).' },
  { name: 'NETPULSE_SYNC_URL', default: '(unset: no sync)', description: 'postgres://user:pass@host:5432/db — replicate the hour and day rollups to PostgreSQL and show every device that does.' },
  { name: 'NETPULSE_SYNC_INTERVAL', default: '60', description: 'Seconds between replication cycles, 5–3600.' },
  { name: 'NETPULSE_FLOWS', default: 'off', description: 'on: add the nftables table `inet netpulse` and count bytes per host (needs CAP_NET_ADMIN and nftables). off: nothing is loaded or changed.' },
  { name: 'NETPULSE_CLASSIFY', default: 'off', description: 'on: label flows by reading DNS answers and TLS server names (a privacy choice; needs NETPULSE_FLOWS=on).' },
  { name: 'NETPULSE_LAN_CIDRS', default: DEFAULT_LAN_CIDRS.join(','), description: 'Comma-separated prefixes of "our" hosts (router mode counts these addresses).' },
  { name: 'NETPULSE_FLOW_RETENTION_DAYS', default: '7', description: 'Days flow details and names are kept, 1–3650.' },
  { name: 'NETPULSE_FLOW_DUMP_SEC', default: '5', description: 'Shortest time between two conntrack dumps, 1–300 s; it grows so a dump costs at most 0.2 % of the time. Flows that end between dumps are counted from their DESTROY events.' },
  { name: 'NETPULSE_DHCP_LEASES', default: '(unset)', description: 'A dnsmasq (`/var/lib/misc/dnsmasq.leases`) or odhcpd leases file that names hosts.' },
  { name: 'NETPULSE_QOS', default: 'off', description: 'on: allow QoS (shaping, priority classes, DSCP marking, policing) to change this machine\'s qdiscs and nftables; needs CAP_NET_ADMIN. off: the QoS code is not even loaded.' },
  { name: 'NETPULSE_MQTT_URL', default: '(unset: no MQTT)', description: 'mqtt://[user:password@]host[:1883] or mqtts://…:8883 — publish rates, totals, the cap and the collector state to this broker, with Home Assistant discovery.' },
  { name: 'NETPULSE_MQTT_USERNAME', default: '(unset)', description: 'Broker user name, when it is not in NETPULSE_MQTT_URL.' },
  { name: 'NETPULSE_MQTT_PASSWORD', default: '(unset)', description: 'Broker password, when it is not in NETPULSE_MQTT_URL.' },
  { name: 'NETPULSE_MQTT_INTERVAL', default: '30', description: 'Seconds between MQTT state updates, 1–3600.' },
  { name: 'NETPULSE_MQTT_TOPIC_PREFIX', default: 'netpulse/<node id>', description: 'Topic prefix for the state and availability topics (no wildcards).' },
  { name: 'NETPULSE_MQTT_DISCOVERY_PREFIX', default: 'homeassistant', description: "Home Assistant's MQTT discovery prefix." },
  { name: 'NETPULSE_ALERT_NTFY_URL', default: '(unset)', description: 'ntfy topic URL (e.g. https://ntfy.sh/my-topic; user:password@ for a protected one) that rule alerts are published to.' },
  { name: 'NETPULSE_ALERT_TEMPLATE_URL', default: '(unset)', description: 'http(s) URL that rule alerts are POSTed to with the body NETPULSE_ALERT_TEMPLATE.' },
  { name: 'NETPULSE_ALERT_TEMPLATE', default: '(unset)', description: 'JSON body for NETPULSE_ALERT_TEMPLATE_URL with {{event}} {{rule}} {{type}} {{interface}} {{message}} {{value}} {{time}} {{device}} inside strings, e.g. {"text":"{{message}}"}.' },
  { name: 'NETPULSE_INTERFACES', default: '(unset: the set stored by the first start or the API)', description: 'Which interfaces to monitor, same syntax as NETPULSE_USAGE_INTERFACES (e.g. `eth0,wlan*` or `-docker*,-veth*`; only `-` entries: every interface but loopback and those). Wins over the stored set and matches interfaces that appear later (a VPN coming up).' },
];

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) {
    throw new ConfigError(name, `"${raw}" is not a whole number; expected ${min}–${max}`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new ConfigError(name, `${value} is out of range; expected ${min}–${max}`);
  }
  return value;
}

/**
 * Whether a name is a time zone Net-Pulse can work in: one of the system's zoneinfo files (TZDIR or
 * /usr/share/zoneinfo), else one Intl knows (Intl is asked only then: it maps ICU's data, issue #13).
 */
export function isValidTimeZone(tz: string, env: Env = {}): boolean {
  if (zoneinfoOf(env).rules(tz) !== null) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function readTimeZone(env: Env): string {
  const raw = env.NETPULSE_TZ?.trim();
  if (raw === undefined || raw === '') {
    return zoneinfoOf(env).localZone(env) ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  }
  if (!isValidTimeZone(raw, env)) {
    throw new ConfigError('NETPULSE_TZ', `"${raw}" is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Kolkata)`);
  }
  return raw;
}

function readOrigins(env: Env): string[] {
  const raw = env.NETPULSE_CORS_ORIGINS?.trim();
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((origin) => {
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        throw new ConfigError('NETPULSE_CORS_ORIGINS', `"${origin}" is not an origin like https://host:port`);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
        throw new ConfigError('NETPULSE_CORS_ORIGINS', `"${origin}" is not an origin like https://host:port (no path)`);
      }
      return url.origin;
    });
}

function readLogLevel(env: Env): LogLevel {
  const raw = env.NETPULSE_LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return 'info';
  const found = LOG_LEVELS.find((l) => l === raw || (raw === 'warning' && l === 'warn'));
  if (!found) throw new ConfigError('NETPULSE_LOG_LEVEL', `"${env.NETPULSE_LOG_LEVEL}" is not one of ${LOG_LEVELS.join(', ')}`);
  return found;
}

function readHost(env: Env): string {
  const raw = env.NETPULSE_HOST?.trim();
  if (!raw) return '127.0.0.1';
  if (!/^[A-Za-z0-9.:%-]+$/.test(raw)) {
    throw new ConfigError('NETPULSE_HOST', `"${raw}" is not a host name or IP address`);
  }
  return raw;
}

function readHttpUrl(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL; expected http://host[:port]/path or https://…');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, not ${url.protocol}`);
  }
  return url.href;
}

/** A URL that may hold a password, with one of the given schemes; the value is never echoed in an error. */
function readSecretUrl(name: string, raw: string, schemes: readonly string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL; expected ${example}`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) {
    throw new ConfigError(name, `must start with ${schemes.map((p) => `${p}://`).join(' or ')}, not ${url.protocol}//`);
  }
  return url;
}

function readSyncUrl(env: Env): string | null {
  const raw = env.NETPULSE_SYNC_URL?.trim();
  if (!raw) return null;
  const url = readSecretUrl('NETPULSE_SYNC_URL', raw, ['postgres', 'postgresql'], 'postgres://user:password@host:5432/database');
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new ConfigError('NETPULSE_SYNC_URL', 'names no host; expected postgres://user:password@host:5432/database');
  }
  return raw;
}

function readTopic(env: Env, name: string): string | null {
  const raw = env[name]?.trim().replace(/\/+$/, '');
  if (!raw) return null;
  if (/[#+\u0000]/.test(raw) || raw.startsWith('/') || raw.includes('//') || raw.length > 200) {
    throw new ConfigError(name, `"${raw}" is not a topic prefix (no #, + or empty levels, at most 200 characters)`);
  }
  return raw;
}

function readMqtt(env: Env): MqttConfig | null {
  const raw = env.NETPULSE_MQTT_URL?.trim();
  if (!raw) return null;
  const url = readSecretUrl('NETPULSE_MQTT_URL', raw, ['mqtt', 'mqtts'], 'mqtt://host:1883 or mqtts://user:password@host:8883');
  if (url.hostname === '') throw new ConfigError('NETPULSE_MQTT_URL', 'names no host; expected mqtt://host:1883');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new ConfigError('NETPULSE_MQTT_URL', 'has a path or query; expected only mqtt://[user:password@]host[:port]');
  }
  const fromUrl = (v: string) => (v === '' ? null : decodeURIComponent(v));
  const username = fromUrl(url.username) ?? (env.NETPULSE_MQTT_USERNAME?.trim() || null);
  const password = fromUrl(url.password) ?? (env.NETPULSE_MQTT_PASSWORD || null);
  return {
    url: `${url.protocol}//${url.host}`,
    username,
    password,
    intervalSec: readInt(env, 'NETPULSE_MQTT_INTERVAL', 30, 1, 3600),
    topicPrefix: readTopic(env, 'NETPULSE_MQTT_TOPIC_PREFIX'),
    discoveryPrefix: readTopic(env, 'NETPULSE_MQTT_DISCOVERY_PREFIX') ?? 'homeassistant',
  };
}

/** An interface list (Beszel's NICS syntax): `name` includes, `-name` excludes, `*` matches; null when unset. */
function readInterfaceList(env: Env, variable: string): string[] | null {
  const raw = env[variable]?.trim();
  if (!raw) return null;
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const e of entries) {
    if (!/^-?[A-Za-z0-9_.@*-]{1,64}$/.test(e) || e === '-') {
      throw new ConfigError(variable, `"${e}" is not an interface name or pattern (letters, digits, _ . @ - and *; a leading - excludes)`);
    }
  }
  return entries.length === 0 ? null : entries;
}

function readUnits(env: Env): ByteUnits {
  const raw = env.NETPULSE_USAGE_UNITS?.trim().toLowerCase();
  if (!raw) return 'decimal';
  if (raw !== 'decimal' && raw !== 'binary') throw new ConfigError('NETPULSE_USAGE_UNITS', `"${env.NETPULSE_USAGE_UNITS}" is not decimal or binary`);
  return raw;
}

function readDeviceName(env: Env): string {
  const raw = env.NETPULSE_DEVICE_NAME?.trim();
  const name = raw ? raw : os.hostname().trim() || 'netpulse';
  if (raw && (raw.length > 64 || /[\u0000-\u001f]/.test(raw))) {
    throw new ConfigError('NETPULSE_DEVICE_NAME', 'must be 1–64 printable characters');
  }
  return name.slice(0, 64);
}

function readOnOff(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return false;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `"${env[name]}" is not on or off`);
}

function readLanCidrs(env: Env): Cidr[] {
  const raw = env.NETPULSE_LAN_CIDRS?.trim();
  const entries = (raw ? raw.split(',') : [...DEFAULT_LAN_CIDRS]).map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) throw new ConfigError('NETPULSE_LAN_CIDRS', 'names no prefix; expected e.g. 192.168.0.0/16,fd00::/8');
  if (entries.length > 64) throw new ConfigError('NETPULSE_LAN_CIDRS', `${entries.length} prefixes; at most 64`);
  const seen = new Map<string, Cidr>();
  for (const e of entries) {
    try {
      const c = parseCidr(e);
      seen.set(c.text, c);
    } catch (err) {
      throw new ConfigError('NETPULSE_LAN_CIDRS', (err as Error).message);
    }
  }
  return [...seen.values()];
}

function readPath(env: Env, name: string, fallback: string, cwd: string): string {
  const raw = env[name]?.trim();
  return path.resolve(cwd, raw ? raw : fallback);
}

/** NETPULSE_ALERT_TEMPLATE_URL and NETPULSE_ALERT_TEMPLATE go together; the template must be JSON once filled in. */
function readTemplate(env: Env): { url: string; body: string } | null {
  const url = readHttpUrl(env, 'NETPULSE_ALERT_TEMPLATE_URL');
  const body = env.NETPULSE_ALERT_TEMPLATE?.trim() ? env.NETPULSE_ALERT_TEMPLATE.trim() : null;
  if (url === null && body === null) return null;
  if (url === null) throw new ConfigError('NETPULSE_ALERT_TEMPLATE', 'is set without NETPULSE_ALERT_TEMPLATE_URL, the http(s) URL to POST it to');
  if (body === null) throw new ConfigError('NETPULSE_ALERT_TEMPLATE_URL', 'is set without NETPULSE_ALERT_TEMPLATE, the JSON body to send (e.g. {"text":"{{message}}"})');
  const problem = checkTemplate(body);
  if (problem !== null) throw new ConfigError('NETPULSE_ALERT_TEMPLATE', problem);
  return { url, body };
}

/** Reads and checks the configuration. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const packageRoot = path.resolve(import.meta.dirname, '..', '..');
  return {
    host: readHost(env),
    port: readInt(env, 'NETPULSE_PORT', 8000, 0, 65535),
    logLevel: readLogLevel(env),
    dbPath: readPath(env, 'NETPULSE_DB_PATH', './data/netpulse.db', cwd),
    pollIntervalSecOverride:
      env.NETPULSE_POLL_INTERVAL === undefined || env.NETPULSE_POLL_INTERVAL.trim() === ''
        ? null
        : readInt(env, 'NETPULSE_POLL_INTERVAL', DEFAULT_POLL_INTERVAL_SEC, POLL_INTERVAL_MIN_SEC, POLL_INTERVAL_MAX_SEC),
    commitIntervalSec: readInt(env, 'NETPULSE_COMMIT_INTERVAL', 10, 0, 300),
    timezone: readTimeZone(env),
    procRoot: readPath(env, 'NETPULSE_PROC_ROOT', '/proc', cwd),
    sysRoot: readPath(env, 'NETPULSE_SYS_ROOT', '/sys', cwd),
    authToken: env.NETPULSE_AUTH_TOKEN?.trim() ? env.NETPULSE_AUTH_TOKEN.trim() : null,
    corsOrigins: readOrigins(env),
    retention: {
      rawHours: readInt(env, 'NETPULSE_RETENTION_RAW_HOURS', 48, 1, 8760),
      minuteDays: readInt(env, 'NETPULSE_RETENTION_MINUTE_DAYS', 30, 1, 3650),
      hourDays: readInt(env, 'NETPULSE_RETENTION_HOUR_DAYS', 1825, 1, 36500),
      dayDays: readInt(env, 'NETPULSE_RETENTION_DAY_DAYS', 0, 0, 36500),
    },
    frontendDir: path.join(packageRoot, 'frontend', 'dist'),
    usage: {
      interfaces: readInterfaceList(env, 'NETPULSE_USAGE_INTERFACES'),
      monthStartDay: env.NETPULSE_MONTH_START_DAY?.trim() ? readInt(env, 'NETPULSE_MONTH_START_DAY', 1, 1, 28) : null,
      units: readUnits(env),
      alertWebhookUrl: readHttpUrl(env, 'NETPULSE_ALERT_WEBHOOK_URL'),
    },
    deviceName: readDeviceName(env),
    sync: {
      url: readSyncUrl(env),
      intervalSec: readInt(env, 'NETPULSE_SYNC_INTERVAL', 60, 5, 3600),
    },
    flows: {
      enabled: readOnOff(env, 'NETPULSE_FLOWS'),
      classify: readOnOff(env, 'NETPULSE_CLASSIFY'),
      lanCidrs: readLanCidrs(env),
      retentionDays: readInt(env, 'NETPULSE_FLOW_RETENTION_DAYS', 7, 1, 3650),
      leasesPath: env.NETPULSE_DHCP_LEASES?.trim() ? readPath(env, 'NETPULSE_DHCP_LEASES', '', cwd) : null,
      dumpIntervalSec: readInt(env, 'NETPULSE_FLOW_DUMP_SEC', 5, 1, 300),
    },
    qosEnabled: readOnOff(env, 'NETPULSE_QOS'),
    linkEvents: env.NETPULSE_LINK_EVENTS?.trim() ? readOnOff(env, 'NETPULSE_LINK_EVENTS') : true,
    mqtt: readMqtt(env),
    monitorInterfaces: readInterfaceList(env, 'NETPULSE_INTERFACES'),
    alertChannels: { ntfyUrl: readHttpUrl(env, 'NETPULSE_ALERT_NTFY_URL'), template: readTemplate(env) },
  };
}
