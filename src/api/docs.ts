/**
 * /docs: the OpenAPI document (/docs/json) and the OpenAPI UI (@fastify/swagger-ui), both made on their first
 * request, not at start (issue #13: a capability nobody uses costs nothing; @fastify/swagger with yaml and its
 * schema resolver is ≈ 3 MiB). The routes are noted as they are registered, as @fastify/swagger's own onRoute
 * hook would keep them; at the first request @fastify/swagger generates the document in a Fastify instance of
 * its own, where the same routes are declared again with handlers that never run and compilers that compile
 * nothing. Fastify can't register a plugin once it listens, so the UI too runs in a small instance of its own,
 * made at the first UI request; the main app's routes hand it those requests (after the main app's hooks:
 * security headers, authentication, rate limit).
 */
import type { SwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { App } from './app.js';
import { HttpError } from './errors.js';

export interface OpenApiDocument {
  /** The document as @fastify/swagger makes it (app.swagger() before issue #13). */
  json(): Promise<unknown>;
  yaml(): Promise<string>;
}

/**
 * Notes every route registered on app from now on (call it where @fastify/swagger would be registered: after the
 * hooks that rewrite route schemas) and generates the document from them on the first call.
 */
export function registerLazyOpenApi(app: App, options: SwaggerOptions): OpenApiDocument {
  const routes: RouteOptions[] = [];
  // @fastify/swagger leaves HEAD routes out (Fastify adds one to every GET) unless told to show them.
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });
  let made: Promise<{ json: unknown; yaml: string }> | null = null;
  const make = () =>
    (made ??= (async () => {
      const [{ default: Fastify }, { default: swagger }] = await Promise.all([import('fastify'), import('@fastify/swagger')]);
      const inner = Fastify({ logger: false, exposeHeadRoutes: false });
      inner.setValidatorCompiler(() => () => true);
      inner.setSerializerCompiler(() => (data) => JSON.stringify(data));
      await inner.register(swagger, options);
      for (const r of routes) inner.route({ method: r.method, url: r.url, schema: r.schema, config: r.config, handler: async () => undefined });
      await inner.ready();
      const document = { json: inner.swagger(), yaml: inner.swagger({ yaml: true }) };
      await inner.close();
      return document;
    })().catch((err: unknown) => {
      made = null; // try again at the next request
      throw err;
    }));
  return {
    json: async () => (await make()).json,
    yaml: async () => (await make()).yaml,
  };
}

/** Headers of the UI's answers that are passed on (the main app sets its own security headers and length). */
const PASSED_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified', 'location', 'vary'];

export function registerLazyDocs(app: App, document: OpenApiDocument, routePrefix = '/docs'): void {
  let ui: Promise<FastifyInstance> | null = null;

  function loadUi(): Promise<FastifyInstance> {
    ui ??= (async () => {
      const [{ default: Fastify }, { default: swaggerUi }, json, yaml] = await Promise.all([import('fastify'), import('@fastify/swagger-ui'), document.json(), document.yaml()]);
      const inner = Fastify({ logger: false });
      // swagger-ui depends on a plugin named @fastify/swagger and asks fastify.swagger() for the document
      // (its /json and /yaml routes): this stand-in answers with the main app's. The symbols are what
      // fastify-plugin sets: no encapsulation, and the name the dependency check looks for.
      const swaggerOfApp = Object.assign(
        async (instance: FastifyInstance) => {
          instance.decorate('swagger', ((opts?: { yaml?: boolean }) => (opts?.yaml ? yaml : json)) as never);
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
  app.get(`${routePrefix}/json`, { schema: { hide: true } }, async () => document.json());
  app.get(routePrefix, { schema: { hide: true } }, forward);
  app.get(`${routePrefix}/*`, { schema: { hide: true } }, forward);
}
