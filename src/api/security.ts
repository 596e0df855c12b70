/**
 * The API's guard rails (issue #4): who may write, from which origin, how often and how much, and the
 * headers every response carries. Reads are never authenticated.
 *
 * Call `registerSecurity` on the root instance before any route is registered, and pass
 * `bodyLimit: SECURITY_BODY_LIMIT_BYTES` to the Fastify constructor.
 *
 * Order of the checks for a write (any method but GET/HEAD/OPTIONS), all in onRequest so a refused
 * request's body is never read:
 *   1. rate limit per client address (counts refused attempts too, so token guessing is throttled);
 *   2. a browser's Origin must be this server's own origin or a listed one (cross-site request forgery
 *      and DNS rebinding against a loopback-bound server, where no token is needed);
 *   3. with NETPULSE_AUTH_TOKEN set: `Authorization: Bearer <token>`, from every client, loopback too;
 *      without it: only loopback clients may write when the server listens beyond loopback.
 * The client address is the socket's; X-Forwarded-For is never trusted.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mappedV4, plainAddress, v6ToBigInt } from '../config/cidr.js';
import { createWriteLimiter } from './write-limiter.js';

export interface SecurityOptions {
  /** The address the server binds to (NETPULSE_HOST). */
  host: string;
  /** NETPULSE_AUTH_TOKEN, or null when unset. */
  authToken: string | null;
  /** NETPULSE_CORS_ORIGINS: exact origins (scheme://host[:port]) a browser may call the API from. */
  corsOrigins: string[];
  /** Writes allowed per client address per window; default 60 per minute. */
  writeRateLimit?: { max: number; timeWindowMs: number };
  /** Largest request body accepted by each write route; default SECURITY_BODY_LIMIT_BYTES. */
  bodyLimitBytes?: number;
}

/** Request body limit: pass it to the Fastify constructor (`bodyLimit`) as well. */
export const SECURITY_BODY_LIMIT_BYTES = 64 * 1024;

export const DEFAULT_WRITE_RATE_LIMIT = { max: 60, timeWindowMs: 60_000 } as const;

/** The page's policy. Svelte may inject <style>, so inline styles are allowed; inline scripts never. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * /docs (swagger-ui). Its page loads only its own script files, so scripts stay 'self'; it draws with
 * inline styles and may show images from https (the validator badge).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const DOCS_PREFIX = '/docs';

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
};

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type SecurityErrorCode =
  | 'TOKEN_REQUIRED'
  | 'TOKEN_INVALID'
  | 'REMOTE_WRITE_FORBIDDEN'
  | 'CROSS_ORIGIN_WRITE_FORBIDDEN'
  | 'CORS_ORIGIN_FORBIDDEN'
  | 'RATE_LIMITED';

export interface SecurityErrorBody {
  statusCode: number;
  code: SecurityErrorCode;
  error: string;
  message: string;
}

export function isWriteMethod(method: string): boolean {
  return !READ_METHODS.has(method.toUpperCase());
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x (::ffff:127.0.0.1). Anything else, or undefined, is not. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = plainAddress(address);
  const family = isIP(a);
  if (family === 4) return a.startsWith('127.');
  if (family === 6) {
    const n = v6ToBigInt(a);
    return n === 1n || (mappedV4(n)?.startsWith('127.') ?? false);
  }
  return false;
}

/** True when a server bound to `host` can only be reached from this machine. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

/** Compares two secrets in constant time, whatever their lengths (digests are always 32 bytes). */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim().replace(/\/$/, '');
  let url: URL | null = null;
  try {
    url = new URL(trimmed);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== trimmed.toLowerCase()) {
    throw new Error(`NETPULSE_CORS_ORIGINS: "${origin}" is not an origin like https://host:port (no path, no wildcard)`);
  }
  return url.origin;
}

function errorBody(statusCode: number, code: SecurityErrorCode, message: string): SecurityErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function refuse(reply: FastifyReply, statusCode: number, code: SecurityErrorCode, message: string): FastifyReply {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(errorBody(statusCode, code, message));
}

/** `Bearer <token>` → the token; anything else → null. */
function readBearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * A browser's write is acceptable from a listed origin, or from this server's own origin (Origin host ==
 * Host header). When the server is bound to loopback, its own origin must also name a loopback host:
 * a page on evil.example whose DNS was re-pointed at 127.0.0.1 sends Host: evil.example and is refused.
 */
function isAcceptableWriteOrigin(origin: string, hostHeader: string | undefined, allowed: ReadonlySet<string>, loopbackBind: boolean): boolean {
  if (allowed.has(origin)) return true;
  if (hostHeader === undefined || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.host !== hostHeader.trim().toLowerCase()) return false;
  return !loopbackBind || isLoopbackBind(url.hostname);
}

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}

export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const authToken = options.authToken !== null && options.authToken !== '' ? options.authToken : null;
  const loopbackBind = isLoopbackBind(options.host);
  const corsOrigins = options.corsOrigins.map(normalizeOrigin);
  const allowedOrigins: ReadonlySet<string> = new Set(corsOrigins);
  const { max, timeWindowMs } = options.writeRateLimit ?? DEFAULT_WRITE_RATE_LIMIT;
  if (!Number.isInteger(max) || max < 1 || !Number.isInteger(timeWindowMs) || timeWindowMs < 1) {
    throw new Error(`writeRateLimit needs positive integers, got max=${max} timeWindowMs=${timeWindowMs}`);
  }
  const bodyLimitBytes = options.bodyLimitBytes ?? SECURITY_BODY_LIMIT_BYTES;
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new Error(`bodyLimitBytes must be a positive integer, got ${bodyLimitBytes}`);
  }

  // Every write route gets the body limit unless it chose its own (a route registered later only).
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.bodyLimit === undefined && methods.some((m) => isWriteMethod(m))) {
      route.bodyLimit = bodyLimitBytes;
    }
  });

  // A preflight from an origin that is not listed is refused outright rather than answered without
  // CORS headers: the browser would block it either way, but this tells the operator why.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS') return;
    const origin = request.headers.origin;
    if (origin === undefined || request.headers['access-control-request-method'] === undefined) return;
    if (allowedOrigins.has(origin)) return;
    return refuse(
      reply,
      403,
      'CORS_ORIGIN_FORBIDDEN',
      `Origin ${origin} may not call this API from a browser; list it in NETPULSE_CORS_ORIGINS to allow it.`,
    );
  });

  // Without listed origins no browser on another origin may call the API, so nothing is answered with CORS
  // headers and the plugin is not loaded (issue #13).
  if (corsOrigins.length > 0) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, {
      origin: corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Content-Type', 'Authorization'],
      credentials: false,
      maxAge: 600,
    });
  }

  const writeLimiter = createWriteLimiter({ max, timeWindowMs });

  app.addHook('onRequest', async (request, reply) => {
    if (!isWriteMethod(request.method)) return;

    const limit = writeLimiter.hit(request.socket.remoteAddress);
    if (!limit.allowed) {
      reply.header('retry-after', String(limit.retryAfterSec));
      return refuse(
        reply,
        429,
        'RATE_LIMITED',
        `Too many writes: at most ${max} per ${Math.round(timeWindowMs / 1000)} s from one address. Retry in ${limit.retryAfterSec} s.`,
      );
    }

    const origin = request.headers.origin;
    if (origin !== undefined && !isAcceptableWriteOrigin(origin, request.headers.host, allowedOrigins, loopbackBind)) {
      return refuse(
        reply,
        403,
        'CROSS_ORIGIN_WRITE_FORBIDDEN',
        `Writes from origin ${origin} are refused; list it in NETPULSE_CORS_ORIGINS to allow it.`,
      );
    }

    if (authToken !== null) {
      const given = readBearer(request.headers.authorization);
      if (given === null) {
        reply.header('www-authenticate', 'Bearer realm="netpulse"');
        return refuse(reply, 401, 'TOKEN_REQUIRED', 'This change needs the NETPULSE_AUTH_TOKEN as "Authorization: Bearer <token>".');
      }
      if (!tokensMatch(given, authToken)) {
        reply.header('www-authenticate', 'Bearer realm="netpulse", error="invalid_token"');
        return refuse(reply, 401, 'TOKEN_INVALID', 'The token does not match NETPULSE_AUTH_TOKEN.');
      }
      return;
    }

    if (!loopbackBind && !isLoopbackAddress(request.socket.remoteAddress)) {
      return refuse(
        reply,
        403,
        'REMOTE_WRITE_FORBIDDEN',
        `Changes from other machines are refused while NETPULSE_AUTH_TOKEN is unset (server listens on ${options.host}). Set NETPULSE_AUTH_TOKEN and send it as a Bearer token, or make the change from this machine.`,
      );
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const path = pathOf(request);
    const isDocs = path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);
    reply.header('content-security-policy', isDocs ? DOCS_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      reply.header(name, value);
    }
    return payload;
  });
}
