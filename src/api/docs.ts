/**
 * /docs: the OpenAPI document (/docs/json, built by @fastify/swagger at start, as it must see every route)
 * and the OpenAPI UI (@fastify/swagger-ui), which is loaded on the first request for it, not at start
 * (issue #13: a capability nobody uses costs nothing). Fastify can't register a plugin once it listens, so
 * the UI runs in a small Fastify instance of its own, made at the first UI request; the main app's routes
 * hand it those requests (after the main app's hooks: security headers, authentication, rate limit).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import { HttpError } from './errors.js';

/** Headers of the UI's answers that are passed on (the main app sets its own security headers and length). */
const PASSED_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified', 'location', 'vary'];

export function registerLazyDocs(app: App, routePrefix = '/docs'): void {
  let ui: Promise<FastifyInstance> | null = null;

  function loadUi(): Promise<FastifyInstance> {
    ui ??= (async () => {
      const [{ default: Fastify }, { default: swaggerUi }] = await Promise.all([import('fastify'), import('@fastify/swagger-ui')]);
      const inner = Fastify({ logger: false });
      // swagger-ui depends on a plugin named @fastify/swagger and asks fastify.swagger() for the document
      // (its /json and /yaml routes): this stand-in answers with the main app's. The symbols are what
      // fastify-plugin sets: no encapsulation, and the name the dependency check looks for.
      const swaggerOfApp = Object.assign(
        async (instance: FastifyInstance) => {
          instance.decorate('swagger', ((opts?: { yaml?: boolean }) => app.swagger(opts as { yaml: true })) as never);
        },
        { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@fastify/swagger', [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' } },
      );
      await inner.register(swaggerOfApp);
      await inner.register(swaggerUi, { routePrefix });
      await inner.ready();
      return inner;
    })().catch((err: unknown) => {
      ui = null; // try again at the next request
      throw err;
    });
    return ui;
  }

  async function forward(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const inner = await loadUi();
    const headers: Record<string, string> = {};
    for (const name of ['if-none-match', 'if-modified-since', 'accept', 'accept-encoding']) {
      const v = request.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const answer = await inner.inject({ method: 'GET', url: request.url, headers });
    // The UI's own errors become the app's: the same 404 body as any unknown path, our error shape otherwise.
    if (answer.statusCode === 404) {
      reply.callNotFound();
      return reply;
    }
    if (answer.statusCode >= 500) throw new Error(`the OpenAPI UI answered ${answer.statusCode} for ${request.url.split('?')[0]}`);
    if (answer.statusCode >= 400) throw new HttpError(answer.statusCode, 'BAD_REQUEST', `the OpenAPI UI refused ${request.url.split('?')[0]}`);
    reply.status(answer.statusCode);
    for (const name of PASSED_HEADERS) {
      const v = answer.headers[name];
      if (v !== undefined) reply.header(name, v);
    }
    return reply.send(answer.rawPayload);
  }

  // The document itself needs no UI.
  app.get(`${routePrefix}/json`, { schema: { hide: true } }, async () => app.swagger());
  app.get(routePrefix, { schema: { hide: true } }, forward);
  app.get(`${routePrefix}/*`, { schema: { hide: true } }, forward);
}
