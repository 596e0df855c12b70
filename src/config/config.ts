/**
 * Net-Pulse's configuration: read from the environment once, at start, into one typed and checked object.
 * A bad value stops the process with a message naming the variable and the range it accepts.
 * Every key is documented here and in the README's configuration table.
 */
import path from 'node:path';

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
  timezone: string;
  procRoot: string;
  sysRoot: string;
  authToken: string | null;
  corsOrigins: string[];
  retention: RetentionConfig;
  /** Where the built dashboard lives (served at /). */
  frontendDir: string;
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

export function isValidTimeZone(tz: string): boolean {
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
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  }
  if (!isValidTimeZone(raw)) {
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

function readPath(env: Env, name: string, fallback: string, cwd: string): string {
  const raw = env[name]?.trim();
  return path.resolve(cwd, raw ? raw : fallback);
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
  };
}
