/**
 * The built dashboard (frontend/dist): a dozen files, listed once at start, one GET route each (HEAD too), sent
 * from disk with their type, length, validators and caching. Not @fastify/static: its glob, send and mime
 * packages are ≈ 2 MiB of heap in every server (issue #13) for what these few lines do for a fixed set of files.
 * Vite names every file under assets/ by its content's hash, so those are cached for a year; index.html is
 * revalidated on every load (ETag / Last-Modified, 304).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** Relative paths (with /) of the regular files under dir, dot files and folders left out. */
function listFiles(dir: string, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) found.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile()) found.push(rel);
  }
  return found;
}

export interface DashboardFiles {
  /** Sends one of the files (a path relative to the root), as its own route would. */
  send(request: FastifyRequest, reply: FastifyReply, rel: string): FastifyReply;
}

/** Registers a route for every file under root (/ itself is the app's: it answers JSON too); null when root has no index.html (the dashboard is not built). */
export function registerDashboardFiles(app: App, root: string): DashboardFiles | null {
  if (!fs.existsSync(path.join(root, 'index.html'))) return null;
  const send = (request: FastifyRequest, reply: FastifyReply, rel: string): FastifyReply => {
    const file = path.join(root, rel);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      // Deleted since start (a rebuild under a running server): as any unknown path.
      reply.callNotFound();
      return reply;
    }
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    reply
      .header('content-type', TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream')
      .header('etag', etag)
      .header('last-modified', stat.mtime.toUTCString())
      .header('cache-control', rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=0');
    const ifNoneMatch = request.headers['if-none-match'];
    const ifModifiedSince = request.headers['if-modified-since'];
    const fresh =
      ifNoneMatch !== undefined
        ? ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
        : ifModifiedSince !== undefined && Math.floor(stat.mtimeMs / 1000) <= Math.floor(Date.parse(ifModifiedSince) / 1000);
    if (fresh) return reply.status(304).send();
    // For HEAD, Fastify drains the stream and keeps this length.
    reply.header('content-length', stat.size);
    return reply.send(fs.createReadStream(file));
  };
  for (const rel of listFiles(root)) {
    app.get(`/${rel}`, { schema: { hide: true } }, (request, reply) => send(request, reply, rel));
  }
  return { send };
}
