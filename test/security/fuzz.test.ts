/**
 * Issue #4: a fuzz pass over every endpoint's parameters and bodies against the REAL server (startServer,
 * a real socket). Thousands of requests from a seeded PRNG — random strings, huge numbers, path traversal,
 * SQL fragments, bad percent-encoding, wrong content types, invalid JSON, oversized bodies, random methods
 * on random paths — must never get a 5xx, every 4xx must be our JSON error body, and afterwards every
 * stored row (traffic, rollups, counter state, configuration, …) must be exactly as before.
 *
 * Reads may succeed (a valid GET is fine). Write bodies are invalid by construction (see the generators),
 * so every write must be refused with a 4xx; a 2xx write means a generator bug or a validation hole.
 *
 * The write rate limit (60 per minute per client address, not configurable from the server) would turn
 * most writes into 429s and never reach validation: writes are sent from a rotating loopback source
 * address (127.1xx.y.z — Linux routes all of 127/8 to lo), 40 writes per address.
 *
 * Reproduce a failure: NETPULSE_FUZZ_SEED=<seed printed in the output> node --import tsx --test test/security/fuzz.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { httpRequest, snapshotDatabase, startSecurityServer, trafficSummary, type HttpResponse, type SecurityServer } from '../helpers/security-net.js';

const REQUEST_COUNT = 3200;
const CONCURRENCY = 8;
const RUN_DEADLINE_MS = 40_000;
const REQUEST_TIMEOUT_MS = 5_000;
const WRITES_PER_ADDRESS = 40;
/** SECURITY_BODY_LIMIT_BYTES is 64 KiB. */
const OVERSIZED_BYTES = 64 * 1024 + 1;

// ---------------------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

type Rng = {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
};

function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Values

const NASTY_STRINGS = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '0',
  '-0',
  '1e308',
  '-1e308',
  '1e-320',
  '9007199254740993',
  '18446744073709551616',
  '0x10',
  '1_000',
  '1.5',
  '١٢',
  'true',
  'null',
  'undefined',
  '[]',
  '{}',
  '1; DROP TABLE traffic_data',
  "' OR '1'='1",
  "eth0'--",
  '"; DELETE FROM configuration; --',
  'eth0) UNION SELECT * FROM configuration --',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  '....//....//etc/passwd',
  '..',
  '.',
  '\u0000',
  'eth0\u0000',
  '\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  '${process.exit(1)}',
  '{{7*7}}',
  '%s%s%s%n',
  'ümlaut',
  'Ω≈ç√',
  '😀😀😀',
  '\u202eoiram',
  '\uffff',
  '\ud800',
  'eth0 ',
  ' eth0',
  'eth0:1',
  'eth0/../lo',
  'lo\u00a0',
  'a'.repeat(15),
  'a'.repeat(16),
  'b'.repeat(65),
  '2026-13-45T25:61:61Z',
  '2026-01-01T00:00:00+99:99',
  '9999-12-31T23:59:59Z',
  '0000-01-01',
  '+275760-09-13T00:00:00Z',
  '999999999999',
  '9999999999999',
  '__proto__',
  'constructor',
  'hasOwnProperty',
];

/** Percent sequences that are not valid UTF-8 or not valid percent-encoding at all: sent raw in the URL. */
const RAW_URL_PIECES = ['%', '%z', '%zz', '%E0%A4%A', '%C0%AF', '%FF%FE', '%2e%2e%2f', '%2e%2e', '%00', '%0d%0a', '..%2f..%2f', '%25', '%2F', '%5C', '%u002e'];

const GOOD = {
  hours: ['1', '24', '0.5', '168', '8760', '87600'],
  groupMinutes: ['1', '5', '60', '1440', '10080'],
  interface: ['eth0', 'wlan0', 'lo'],
  time: ['0', '1700000000', '2026-01-01T00:00:00Z', '2020-01-01'],
  limit: ['1', '10', '100', '1000'],
  offset: ['0', '5'],
  format: ['json', 'csv'],
  resolution: ['raw', 'minute', 'hour', 'day'],
  period: ['day', 'month', 'year'],
  device: ['local', 'all', '00000000-0000-4000-8000-000000000000'],
  bool: ['true', 'false'],
};

function randomString(rng: Rng, maxLength = 24): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz0123456789', 'ABCxyz019-_.~!*\'();:@&=+$,/?#[] "<>\\^`{|}%', 'äöüßéèΩ日本語😀\u0000\u0007\u00a0\u2028'];
  const alphabet = [...rng.pick(alphabets)];
  const length = rng.int(0, maxLength);
  let s = '';
  for (let i = 0; i < length; i++) s += rng.pick(alphabet);
  return s;
}

function junk(rng: Rng): string {
  const r = rng.next();
  if (r < 0.55) return rng.pick(NASTY_STRINGS);
  if (r < 0.85) return randomString(rng);
  if (r < 0.95) return String(rng.pick([-1, 1, -1e9, 1e9, 2 ** 53, 2 ** 64, 1e21]) * rng.next());
  return rng.pick(['x', '9', '%', 'é']).repeat(rng.int(200, 2500));
}

/** Sometimes valid, mostly junk: a request with some valid fields reaches the handler's own checks. */
function param(rng: Rng, good: readonly string[], pGood = 0.4): string {
  return rng.chance(pGood) ? rng.pick(good) : junk(rng);
}

function query(rng: Rng, fields: Record<string, () => string | undefined>): string {
  const parts: string[] = [];
  for (const [name, make] of Object.entries(fields)) {
    if (rng.chance(0.2)) continue; // missing
    const value = make();
    if (value === undefined) continue;
    const times = rng.chance(0.08) ? 2 : 1; // a repeated parameter arrives as an array
    for (let i = 0; i < times; i++) parts.push(`${rng.chance(0.03) ? encode(name.toUpperCase()) : name}=${encodeValue(rng, value)}`);
  }
  if (rng.chance(0.15)) parts.push(`${encode(randomString(rng, 8)) || 'x'}=${encodeValue(rng, junk(rng))}`);
  if (rng.chance(0.05)) parts.push(rng.pick(['&&', '=', '==', '&=&', 'a[b]=1', 'a[]=1&a[]=2', '__proto__[x]=1', 'constructor[prototype][x]=1']));
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes instead of throwing. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value].map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

function encodeValue(rng: Rng, value: string): string {
  if (rng.chance(0.1)) return rng.pick(RAW_URL_PIECES) + encode(value);
  return encode(value);
}

function pathSegment(rng: Rng): string {
  const r = rng.next();
  if (r < 0.3) return rng.pick(GOOD.interface);
  if (r < 0.45) return rng.pick(RAW_URL_PIECES) + rng.pick(['', 'etc', 'passwd', 'eth0']);
  if (r < 0.55) return rng.pick(['..', '.', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..;', '...']);
  return encode(junk(rng)).slice(0, 3000).replace(/%[0-9A-F]?$/i, '');
}

// ---------------------------------------------------------------------------------------------------------
// Requests

interface FuzzRequest {
  index: number;
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  chunked?: boolean;
  /** Must be refused: a write method with an invalid body, or a write to no route. */
  mustRefuse: boolean;
}

type Build = Omit<FuzzRequest, 'index'>;

const get = (kind: string, path: string, headers: Record<string, string> = {}): Build => ({ kind, method: 'GET', path, headers, mustRefuse: false });

const READ_GENERATORS: Array<(rng: Rng) => Build> = [
  (rng) =>
    get('traffic', `/api/traffic${query(rng, { time_window_hours: () => param(rng, GOOD.hours), group_minutes: () => param(rng, GOOD.groupMinutes), interface: () => param(rng, GOOD.interface) })}`),
  (rng) =>
    get(
      'history',
      `/api/traffic/history${query(rng, { interface: () => param(rng, GOOD.interface), start: () => param(rng, GOOD.time), end: () => param(rng, GOOD.time), limit: () => param(rng, GOOD.limit), offset: () => param(rng, GOOD.offset) })}`,
    ),
  (rng) => get('summary', `/api/traffic/summary${query(rng, { hours: () => param(rng, GOOD.hours) })}`),
  (rng) => get('latest', `/api/traffic/latest${query(rng, { interface: () => param(rng, GOOD.interface) })}`),
  (rng) =>
    get(
      'export',
      `/api/export/traffic${query(rng, { format: () => param(rng, GOOD.format), resolution: () => param(rng, GOOD.resolution), interface: () => param(rng, GOOD.interface), start: () => param(rng, GOOD.time), end: () => param(rng, GOOD.time) })}`,
    ),
  (rng) => get('interface', `/api/interfaces/${pathSegment(rng)}${rng.chance(0.2) ? query(rng, { x: () => junk(rng) }) : ''}`),
  (rng) => get('interface-stats', `/api/interfaces/${pathSegment(rng)}/stats`),
  (rng) => get('interface-deep', `/api/interfaces/${pathSegment(rng)}/${pathSegment(rng)}/${rng.pick(['stats', '..', '%2e%2e', 'x'])}`),
  (rng) => get('live', `/api/live${query(rng, { interface: () => param(rng, GOOD.interface), all: () => param(rng, GOOD.bool) })}`),
  (rng) => get('usage', `/api/usage${query(rng, { period: () => param(rng, GOOD.period), interface: () => param(rng, GOOD.interface), device: () => param(rng, GOOD.device), limit: () => param(rng, GOOD.limit) })}`),
  (rng) => get('alerts', `/api/alerts${query(rng, { limit: () => param(rng, GOOD.limit) })}`),
  (rng) =>
    get(
      'plain-read',
      rng.pick(['/api/interfaces', '/api/config/monitored_interfaces', '/api/config/interfaces', '/api/config/collection-interval', '/api/config/data-cap', '/api/devices', '/collector/status', '/health', '/api/health', '/metrics', '/api/system/info', '/api/system/health', '/api/system/metrics', '/']) +
        query(rng, { [randomString(rng, 6) || 'q']: () => junk(rng) }),
      rng.chance(0.3) ? { accept: rng.pick(['application/json', 'text/html', '*/*', 'application/xml', junk(rng).replace(/[^\x20-\x7e]/g, '')]) } : {},
    ),
  (rng) => get('static-traversal', rng.pick(['/', '/assets/', '/docs/', '/docs/static/', '/api/', '/collector/']) + rng.pick(['../../../../etc/passwd', '..%2f..%2f..%2f..%2fetc%2fpasswd', '%2e%2e/%2e%2e/%2e%2e/etc/passwd', '....//....//etc/passwd', 'index.html%00.js', '..\\..\\etc\\passwd', '%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', pathSegment(rng)])),
];

// ---- write bodies, invalid by construction ---------------------------------------------------------------

const NON_STRINGS: unknown[] = [0, 1, -1, 1.5, 1e308, null, true, false, {}, [], [['eth0']], { name: 'eth0' }];
const BAD_NAMES = ['', '.', '..', 'a/b', '../lo', 'eth0:1', 'has space', 'tab\there', 'nul\u0000', 'x'.repeat(16), 'y'.repeat(64), 'z'.repeat(65), '\u00a0', 'lo\n'];

/** A name that is valid for the kernel but no interface has, has had, or is monitored. */
function unknownName(rng: Rng): string {
  return `zz${randomString(rng, 8).replace(/[^a-z0-9]/gi, '') || 'q'}`.slice(0, 15);
}

/** Never a non-empty array of known names: always at least one poison element, or not a useful array at all. */
function invalidNameList(rng: Rng): unknown {
  const r = rng.next();
  if (r < 0.1) return [];
  if (r < 0.15) return Array.from({ length: 1025 }, () => 'eth0');
  const list: unknown[] = Array.from({ length: rng.int(0, 3) }, () => rng.pick(GOOD.interface));
  const poisons = rng.int(1, 3);
  for (let i = 0; i < poisons; i++) {
    const kind = rng.int(0, 2);
    const poison = kind === 0 ? rng.pick(NON_STRINGS) : kind === 1 ? rng.pick(BAD_NAMES) : unknownName(rng);
    list.splice(rng.int(0, list.length), 0, poison);
  }
  return list;
}

function notAList(rng: Rng): unknown {
  return rng.pick<unknown>(['eth0', 'eth0,wlan0', 42, null, true, { interfaces: ['eth0'] }, { 0: 'eth0' }, junk(rng)]);
}

/** interval_seconds never an integer 1–3600 (nor a value a coercion could turn into one). */
function invalidIntervalBody(rng: Rng): unknown {
  const badValues: unknown[] = [0, -1, -60, 3601, 86400, 1e308, -1e308, 1.5, 59.9, 0.0001, 2 ** 53 + 2, '60', '', ' 60', 'sixty', null, true, false, [], [60], { value: 60 }, junk(rng)];
  const r = rng.next();
  if (r < 0.6) return { interval_seconds: rng.pick(badValues) };
  if (r < 0.7) return {};
  if (r < 0.8) return { interval_seconds: 60, [rng.pick(['extra', 'intervalSeconds', '__x', 'interval'])]: 1 };
  if (r < 0.9) return { interval: 60 };
  return rng.pick<unknown>([[{ interval_seconds: 60 }], 60, '60', null, true, junk(rng)]);
}

/** At least one poison that refuses the cap whatever the other fields hold. */
function invalidCapBody(rng: Rng): unknown {
  const body: Record<string, unknown> = {};
  if (rng.chance(0.5)) body.limit_bytes = rng.pick<unknown>([1_000_000, 5_000_000_000, null]);
  else if (rng.chance(0.5)) body.limit = rng.pick(['1 TB', '500GB', '1.5 TiB']);
  if (rng.chance(0.4)) body.interface = rng.pick<unknown>([null, 'eth0', 'wlan0']);
  if (rng.chance(0.4)) body.direction = rng.pick(['both', 'rx', 'tx']);
  if (rng.chance(0.4)) body.thresholds_percent = rng.pick([[80, 100], [50], [10, 20, 30]]);
  if (rng.chance(0.3)) body.month_start_day = rng.pick<unknown>([1, 15, 28, null]);
  switch (rng.int(0, 9)) {
    case 0:
      body[rng.pick(['extra', 'limitBytes', 'cap', '__x', 'interfaces'])] = rng.pick<unknown>([1, 'x', null, {}]);
      break;
    case 1:
      body.limit_bytes = 1000;
      body.limit = '1 GB';
      break;
    case 2:
      delete body.limit_bytes;
      delete body.limit;
      break;
    case 3:
      delete body.limit;
      body.limit_bytes = rng.pick([0, -1, -1e300, 1.5, 1e300, 2 ** 63, 9.3e18, 'abc', 'ten', {}, true]);
      break;
    case 4:
      delete body.limit_bytes;
      body.limit = rng.pick(['', '   ', 'lots', '1 XB', '-1 GB', '1e9', '0', '0 B', '0.0000001 KB', '999999999999999 PB', '1234567890123456', `x${randomString(rng, 20)}`, 'z'.repeat(33)]);
      break;
    case 5:
      body.direction = rng.pick(['', 'up', 'down', 'RX', 'Both', 'rx,tx', '1', junk(rng) + 'q']);
      break;
    case 6:
      body.thresholds_percent = rng.pick([[], [0], [1001], [-5], [1.5], Array(11).fill(50), Array(33).fill(50), ['x']]);
      break;
    case 7:
      body.month_start_day = rng.pick([0, -1, 29, 31, 1e9, 1.5, 'first']);
      break;
    case 8:
      body.interface = rng.chance(0.5) ? unknownName(rng) : rng.pick(BAD_NAMES.filter((n) => n !== ''));
      break;
    default: {
      // The right value in the wrong JSON type: type coercion must not make it valid.
      const [field, value] = rng.pick<[string, unknown]>([
        ['limit_bytes', true],
        ['limit_bytes', '1000000'],
        ['limit_bytes', '1e400'],
        ['limit_bytes', [1000]],
        ['limit', 5_000_000],
        ['limit', ['1 TB']],
        ['interface', ['eth0']],
        ['interface', false],
        ['direction', ['rx']],
        ['direction', 0],
        ['thresholds_percent', '80'],
        ['thresholds_percent', ['80', '100']],
        ['month_start_day', true],
        ['month_start_day', '15'],
      ]);
      if (field === 'limit_bytes') delete body.limit;
      if (field === 'limit') delete body.limit_bytes;
      body[field] = value;
      break;
    }
  }
  return rng.chance(0.05) ? [body] : body;
}

/** Bodies no route accepts, whatever it expects: broken JSON, unparseable or unsupported types. */
function rejectedEnvelope(rng: Rng): { headers: Record<string, string>; body: string | Buffer } {
  switch (rng.int(0, 7)) {
    case 0:
      return { headers: { 'content-type': 'application/json' }, body: rng.pick(['{', '[', '{"interval_seconds":', '["eth0",]', "{'a':1}", 'NaN', 'undefined', '{"a":1}}', '\u0000', '{"a":"\\x"}', randomString(rng).replace(/^[\s\d"[{tfn-]/, '@') || '@']) };
    case 1:
      return { headers: { 'content-type': 'application/json' }, body: '' };
    case 2:
      return { headers: { 'content-type': 'application/json' }, body: rng.pick(['{"__proto__":{"interval_seconds":60}}', '{"constructor":{"prototype":{"x":1}}}', '[{"__proto__":{"admin":true}}]']) };
    case 3:
      return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: rng.pick(['interval_seconds=60', 'interfaces=eth0&interfaces=wlan0', 'limit=1+TB', '']) };
    case 4: {
      const boundary = 'fuzzboundary';
      return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: `--${boundary}\r\nContent-Disposition: form-data; name="interval_seconds"\r\n\r\n60\r\n--${boundary}--\r\n` };
    }
    case 5:
      return { headers: { 'content-type': rng.pick(['application/xml', 'application/octet-stream', 'image/png', 'text/html', 'application/jsonx', 'json', 'application/', '*/*', ';', 'application/json-patch+json2']) }, body: '{"interval_seconds":60}' };
    case 6:
      // Fastify does not decode Content-Encoding: the compressed bytes are parsed as they are, and fail.
      return { headers: { 'content-type': 'application/json', 'content-encoding': rng.pick(['gzip', 'deflate']) }, body: rng.chance(0.5) ? gzipSync('{"interval_seconds":60}') : deflateSync('["eth0"]') };
    default:
      // Fastify ignores the charset: UTF-16 bytes are read as UTF-8, and fail.
      return { headers: { 'content-type': rng.pick(['application/json; charset=utf-16', 'application/json; charset=utf-16le']) }, body: Buffer.from(rng.pick(['["eth0"]', '{"interval_seconds":60}']), 'utf16le') };
  }
}

function oversized(rng: Rng): { headers: Record<string, string>; body: string; chunked: boolean } {
  const contentType = rng.pick(['application/json', 'text/plain', 'application/octet-stream']);
  const size = OVERSIZED_BYTES + rng.int(0, 200_000);
  const body = contentType === 'application/json' ? `[${'"eth0",'.repeat(Math.ceil(size / 7))}"eth0"]` : 'x'.repeat(size);
  return { headers: { 'content-type': contentType }, body, chunked: rng.chance(0.5) };
}

const WRITE_ROUTES: Array<{ method: string; path: string; body: ((rng: Rng) => unknown) | null; textPlainIsInvalid: boolean }> = [
  { method: 'POST', path: '/api/config/monitored_interfaces', body: (rng) => (rng.chance(0.8) ? invalidNameList(rng) : notAList(rng)), textPlainIsInvalid: true },
  { method: 'PUT', path: '/api/config/interfaces', body: (rng) => (rng.chance(0.7) ? { interfaces: invalidNameList(rng) } : rng.pick<unknown>([{}, { interfaces: notAList(rng) }, { interfaces: ['eth0'], extra: 1 }, ['eth0'], 'eth0', null])), textPlainIsInvalid: true },
  { method: 'PUT', path: '/api/config/collection-interval', body: invalidIntervalBody, textPlainIsInvalid: true },
  { method: 'PUT', path: '/api/config/data-cap', body: invalidCapBody, textPlainIsInvalid: true },
  // No body schema: any parseable body is a valid request, so only unparseable ones are sent here.
  { method: 'POST', path: '/collector/collect', body: null, textPlainIsInvalid: false },
  { method: 'POST', path: '/collector/start', body: null, textPlainIsInvalid: false },
  { method: 'POST', path: '/collector/stop', body: null, textPlainIsInvalid: false },
];

function buildWrite(rng: Rng): Build {
  const route = rng.pick(WRITE_ROUTES);
  const kind = `write ${route.method} ${route.path}`;
  const withQuery = rng.chance(0.1) ? query(rng, { [randomString(rng, 6) || 'q']: () => junk(rng) }) : '';
  const r = rng.next();
  if (route.body !== null && r < 0.65) {
    const value = route.body(rng);
    return { kind, method: route.method, path: route.path + withQuery, headers: { 'content-type': rng.pick(['application/json', 'application/json; charset=utf-8', 'Application/JSON']) }, body: JSON.stringify(value) ?? 'null', mustRefuse: true };
  }
  if (route.textPlainIsInvalid && r < 0.72) {
    // text/plain is parsed as a string: the right JSON as text must not pass as the right type.
    const text = rng.pick(['["eth0","wlan0"]', '{"interval_seconds":60}', '{"interfaces":["eth0"]}', '{"limit_bytes":null}', '60', 'eth0']);
    return { kind, method: route.method, path: route.path + withQuery, headers: { 'content-type': 'text/plain' }, body: text, mustRefuse: true };
  }
  if (r < 0.9) {
    const envelope = rejectedEnvelope(rng);
    return { kind, method: route.method, path: route.path + withQuery, headers: envelope.headers, body: envelope.body, mustRefuse: true };
  }
  const big = oversized(rng);
  return { kind: `${kind} oversized`, method: route.method, path: route.path, headers: big.headers, body: big.body, chunked: big.chunked, mustRefuse: true };
}

const KNOWN_PATHS = [
  '/api/traffic',
  '/api/traffic/history',
  '/api/interfaces',
  '/api/interfaces/eth0',
  '/api/config/monitored_interfaces',
  '/api/config/interfaces',
  '/api/config/collection-interval',
  '/api/config/data-cap',
  '/api/export/traffic',
  '/api/usage',
  '/api/alerts',
  '/api/devices',
  '/collector/collect',
  '/collector/start',
  '/collector/stop',
  '/collector/status',
  '/metrics',
  '/health',
  '/docs',
  '/docs/json',
  '/',
];

function buildRandomMethod(rng: Rng): Build {
  const method = rng.pick(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'MKCOL', 'SEARCH', 'TRACE', 'LOCK', 'PURGE', 'REPORT']);
  const base = rng.pick(KNOWN_PATHS);
  const path = rng.chance(0.5) ? base : `${base.replace(/\/$/, '')}/${pathSegment(rng)}${rng.chance(0.3) ? `/${pathSegment(rng)}` : ''}`;
  const isWrite = !['GET', 'HEAD', 'OPTIONS'].includes(method);
  const headers: Record<string, string> = {};
  if (method === 'OPTIONS' && rng.chance(0.5)) {
    headers.origin = rng.pick(['https://evil.example', 'null', 'http://127.0.0.1', 'file://', junk(rng).replace(/[^\x21-\x7e]/g, '') || 'x']);
    headers['access-control-request-method'] = rng.pick(['PUT', 'POST', 'DELETE', 'GET', 'X']);
  }
  if (!isWrite) return { kind: `method ${method}`, method, path, headers, mustRefuse: false };
  // A write method always carries a body no route accepts (a body-less POST /collector/collect would be valid).
  const envelope = rejectedEnvelope(rng);
  return { kind: `method ${method}`, method, path, headers: { ...headers, ...envelope.headers }, body: envelope.body, mustRefuse: true };
}

function buildRequests(seed: number, count: number): FuzzRequest[] {
  const rng = createRng(seed);
  const out: FuzzRequest[] = [];
  for (let index = 0; index < count; index++) {
    const r = rng.next();
    const build = r < 0.45 ? rng.pick(READ_GENERATORS)(rng) : r < 0.88 ? buildWrite(rng) : buildRandomMethod(rng);
    // Keep the request line well under Node's 16 KiB header limit (past it Node, not the app, answers 431).
    if (build.path.length > 8000) build.path = build.path.slice(0, 8000).replace(/%[0-9a-f]?$/i, '');
    out.push({ index, ...build });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Running and judging

function describeRequest(req: FuzzRequest): string {
  const shown = typeof req.body === 'string' ? JSON.stringify(req.body.length > 300 ? `${req.body.slice(0, 300)}…` : req.body) : `hex:${req.body?.toString('hex')}`;
  const body = req.body === undefined ? '' : ` body(${Buffer.byteLength(req.body)} B${req.chunked ? ', chunked' : ''})=${shown}`;
  const path = req.path.length > 400 ? `${req.path.slice(0, 400)}… (${req.path.length} chars)` : req.path;
  return `#${req.index} [${req.kind}] ${req.method} ${path} headers=${JSON.stringify(req.headers)}${body}`;
}

/** Our error body: { statusCode, code, error, message }, statusCode equal to the HTTP status. */
function errorBodyProblem(res: HttpResponse): string | null {
  if (!(res.headers['content-type'] ?? '').includes('application/json')) return `content-type ${res.headers['content-type'] ?? '(none)'}, body ${JSON.stringify(res.text.slice(0, 200))}`;
  const b = res.json as Record<string, unknown> | undefined;
  if (b === undefined || b === null || typeof b !== 'object') return `body is not a JSON object: ${JSON.stringify(res.text.slice(0, 200))}`;
  if (b.statusCode !== res.status) return `statusCode ${String(b.statusCode)} ≠ HTTP ${res.status}: ${res.text.slice(0, 200)}`;
  for (const k of ['code', 'error', 'message']) if (typeof b[k] !== 'string' || b[k] === '') return `no string ${k}: ${res.text.slice(0, 200)}`;
  return null;
}

interface Outcome {
  statuses: Map<number, number>;
  /** kind → status → count */
  byKind: Map<string, Map<number, number>>;
  failures: string[];
  sent: number;
  writesRateLimited: number;
}

async function canBindLoopbackAlias(url: string): Promise<boolean> {
  try {
    await httpRequest({ method: 'GET', url: `${url}/health`, localAddress: '127.101.0.1', timeoutMs: 3000 });
    return true;
  } catch {
    return false;
  }
}

async function runFuzz(srv: SecurityServer, requests: FuzzRequest[], rotateAddresses: boolean): Promise<Outcome> {
  const outcome: Outcome = { statuses: new Map(), byKind: new Map(), failures: [], sent: 0, writesRateLimited: 0 };
  const deadline = Date.now() + RUN_DEADLINE_MS;
  let next = 0;
  let writes = 0;
  const worker = async () => {
    while (next < requests.length && Date.now() < deadline) {
      const req = requests[next++]!;
      let localAddress: string | undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
        const slot = Math.floor(writes++ / WRITES_PER_ADDRESS) + 1;
        if (rotateAddresses) localAddress = `127.${101 + Math.floor(slot / 65536)}.${Math.floor(slot / 256) % 256}.${slot % 256}`;
      }
      let res: HttpResponse;
      try {
        res = await httpRequest({
          method: req.method,
          url: srv.url + req.path,
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          ...(req.chunked ? { chunked: true } : {}),
          ...(localAddress ? { localAddress } : {}),
          abandonEventStream: true,
          timeoutMs: REQUEST_TIMEOUT_MS,
        });
      } catch (err) {
        outcome.sent++;
        outcome.failures.push(`no answer (${err instanceof Error ? err.message : String(err)}) to ${describeRequest(req)}`);
        continue;
      }
      outcome.sent++;
      outcome.statuses.set(res.status, (outcome.statuses.get(res.status) ?? 0) + 1);
      const kindCounts = outcome.byKind.get(req.kind) ?? new Map<number, number>();
      kindCounts.set(res.status, (kindCounts.get(res.status) ?? 0) + 1);
      outcome.byKind.set(req.kind, kindCounts);
      if (res.status === 429) outcome.writesRateLimited++;
      if (res.status >= 500) {
        outcome.failures.push(`HTTP ${res.status} ${res.text.slice(0, 300)} for ${describeRequest(req)}`);
      } else if (req.mustRefuse && (res.status < 400 || res.status >= 500)) {
        outcome.failures.push(`write not refused: HTTP ${res.status} ${res.text.slice(0, 200)} for ${describeRequest(req)}`);
      } else if (res.status >= 400 && req.method !== 'HEAD') {
        const problem = errorBodyProblem(res);
        if (problem !== null) outcome.failures.push(`HTTP ${res.status} without our error body (${problem}) for ${describeRequest(req)}`);
      } else if (res.status < 300 && /root:x?:0:0:|\[extensions\]|\[fonts\]/.test(res.text)) {
        outcome.failures.push(`HTTP ${res.status} served a system file for ${describeRequest(req)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcome;
}

async function configAnswers(srv: SecurityServer) {
  const out: Record<string, unknown> = {};
  for (const path of ['/api/config/monitored_interfaces', '/api/config/interfaces', '/api/config/collection-interval', '/api/config/data-cap']) {
    const res = await httpRequest({ method: 'GET', url: srv.url + path });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    out[path] = res.json;
  }
  const status = (await httpRequest({ method: 'GET', url: `${srv.url}/collector/status` })).json as Record<string, unknown>;
  out.collector = { running: status.running, polls: status.polls, interval_seconds: status.interval_seconds, monitored_interfaces: status.monitored_interfaces };
  return out;
}

test('thousands of fuzzed requests over every endpoint get no 5xx, only our 4xx bodies, and change nothing stored', { timeout: 120_000 }, async (t) => {
  const seed = process.env.NETPULSE_FUZZ_SEED ? Number(process.env.NETPULSE_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32);
  assert.ok(Number.isInteger(seed), `NETPULSE_FUZZ_SEED must be an integer, got ${process.env.NETPULSE_FUZZ_SEED}`);
  t.diagnostic(`fuzz seed ${seed} — rerun with NETPULSE_FUZZ_SEED=${seed}`);
  console.log(`# fuzz seed ${seed} (NETPULSE_FUZZ_SEED=${seed})`);

  const srv = await startSecurityServer(t);
  const post = async (path: string) => {
    const res = await httpRequest({ method: 'POST', url: srv.url + path });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res;
  };

  // Some stored data: four polls with traffic on both monitored interfaces (and some on lo, not monitored).
  const counters = { eth0: [1_000_000n, 1000n, 500_000n, 800n], wlan0: [20_000n, 40n, 10_000n, 30n], lo: [0n, 0n, 0n, 0n] };
  for (let poll = 1; poll <= 4; poll++) {
    for (const [name, c] of Object.entries(counters)) {
      c[0]! += 123_456n * BigInt(poll);
      c[1]! += 100n;
      c[2]! += 54_321n * BigInt(poll);
      c[3]! += 90n;
      srv.tree.setCounters(name, { rxBytes: c[0], rxPackets: c[1], txBytes: c[2], txPackets: c[3] });
    }
    await post('/collector/collect');
  }
  // Nothing changes by itself from here: the timer is off and the counters stay put.
  const stopped = await post('/collector/stop');
  assert.equal((stopped.json as { running: boolean }).running, false);

  const beforeTables = snapshotDatabase(srv.dbPath);
  const beforeSummary = trafficSummary(srv.dbPath);
  const beforeConfig = await configAnswers(srv);
  assert.match(beforeSummary.traffic_data!, /^rows=[1-9]/, 'the fuzz needs stored traffic to protect');

  const rotate = await canBindLoopbackAlias(srv.url);
  if (!rotate) t.diagnostic('cannot bind 127.101.0.1: writes all come from 127.0.0.1 and most will be 429 RATE_LIMITED');

  const requests = buildRequests(seed, REQUEST_COUNT);
  const started = Date.now();
  const outcome = await runFuzz(srv, requests, rotate);
  const elapsedMs = Date.now() - started;

  const statuses = [...outcome.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  const writes = requests.slice(0, outcome.sent).filter((r) => r.mustRefuse).length;
  t.diagnostic(`${outcome.sent} requests (${writes} refused-by-construction writes) in ${elapsedMs} ms; statuses ${statuses}`);
  const kinds = [...outcome.byKind].sort(([a], [b]) => a.localeCompare(b));
  t.diagnostic(`per kind: ${kinds.map(([kind, counts]) => `${kind} ${[...counts].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(',')}`).join('; ')}`);

  const afterTables = snapshotDatabase(srv.dbPath);
  const afterSummary = trafficSummary(srv.dbPath);
  const afterConfig = await configAnswers(srv);

  const byKind = new Map<string, string[]>();
  for (const f of outcome.failures) {
    const kind = f.startsWith('HTTP 5') ? '5xx' : f.startsWith('write not refused') ? 'write not refused' : f.startsWith('no answer') ? 'no answer' : 'other';
    byKind.set(kind, [...(byKind.get(kind) ?? []), f]);
  }
  const report = [...byKind].map(([kind, list]) => `${kind}: ${list.length}\n  ${list.slice(0, 10).join('\n  ')}`).join('\n');
  assert.equal(outcome.failures.length, 0, `${outcome.failures.length} bad answers (seed ${seed}):\n${report}`);
  assert.equal(outcome.sent, REQUEST_COUNT, `only ${outcome.sent} of ${REQUEST_COUNT} requests within ${RUN_DEADLINE_MS} ms`);
  if (rotate) assert.equal(outcome.writesRateLimited, 0, 'writes were rate limited although each source address sent at most 40');
  const changedTables = Object.keys(beforeTables).filter((name) => beforeTables[name] !== afterTables[name]);
  assert.deepEqual(changedTables, [], `stored rows changed (seed ${seed}): ${changedTables.join(', ')}\nbefore ${JSON.stringify(beforeSummary)}\nafter  ${JSON.stringify(afterSummary)}`);
  assert.deepEqual(afterSummary, beforeSummary);
  assert.deepEqual(afterConfig, beforeConfig, `configuration answers changed (seed ${seed})`);
});

// ---------------------------------------------------------------------------------------------------------
// What the fuzz found, pinned down (fixed in src/api/app.ts and src/api/routes/usage.ts)

test('numbers past the double range in a query or body get 400 VALIDATION_ERROR, not 500', async (t) => {
  const srv = await startSecurityServer(t);
  const before = snapshotDatabase(srv.dbPath);
  const cases: [string, string, string?][] = [
    ['GET', '/api/alerts?limit=1e400'],
    ['GET', `/api/alerts?limit=${'9'.repeat(400)}`],
    ['GET', '/api/traffic/history?limit=Infinity'],
    ['GET', '/api/traffic/history?offset=1e400'],
    ['GET', '/api/traffic/summary?hours=Infinity'],
    ['GET', `/api/traffic/summary?hours=-${'9'.repeat(400)}`],
    ['GET', '/api/traffic?time_window_hours=-1e400&group_minutes=60'],
    ['GET', '/api/traffic?time_window_hours=24&group_minutes=1e400'],
    ['GET', '/api/usage?period=day&limit=-Infinity'],
    ['PUT', '/api/config/data-cap', '{"limit_bytes":"1e400"}'],
    ['PUT', '/api/config/data-cap', '{"limit":"1 TB","month_start_day":"Infinity"}'],
  ];
  for (const [method, path, body] of cases) {
    const res = await httpRequest({ method, url: srv.url + path, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
    assert.equal(res.status, 400, `${method} ${path.slice(0, 80)} ${body ?? ''}: ${res.text}`);
    assert.equal((res.json as { code: string }).code, 'VALIDATION_ERROR', `${method} ${path.slice(0, 80)}: ${res.text}`);
  }
  assert.deepEqual(snapshotDatabase(srv.dbPath), before);
});

test('PUT /api/config/data-cap refuses a field sent in the wrong JSON type and stores nothing', async (t) => {
  const srv = await startSecurityServer(t);
  const before = snapshotDatabase(srv.dbPath);
  const bodies = [
    { limit_bytes: true },
    { limit_bytes: '100' },
    { limit: 5 },
    { limit: '1 TB', thresholds_percent: '80' },
    { limit: '1 TB', thresholds_percent: ['80'] },
    { limit: '1 TB', month_start_day: true },
    { limit: '1 TB', month_start_day: '15' },
    { limit: '1 TB', direction: ['rx'] },
    { limit_bytes: null, interface: false },
  ];
  for (const body of bodies) {
    const res = await httpRequest({ method: 'PUT', url: `${srv.url}/api/config/data-cap`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.equal((res.json as { code: string }).code, 'VALIDATION_ERROR', JSON.stringify(body));
  }
  assert.deepEqual(snapshotDatabase(srv.dbPath), before, 'a refused cap was stored');
  const cap = await httpRequest({ method: 'GET', url: `${srv.url}/api/config/data-cap` });
  assert.equal((cap.json as { limit_bytes: unknown }).limit_bytes, null);
  // The right types still work.
  const ok = await httpRequest({ method: 'PUT', url: `${srv.url}/api/config/data-cap`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit_bytes: 5_000_000, interface: null, direction: 'rx', thresholds_percent: [80], month_start_day: null }) });
  assert.equal(ok.status, 200, ok.text);
});
