/**
 * buildApp(ctx): every route, schema and the one error handler. It never listens: the server does that,
 * tests use inject() or listen on port 0.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { registerDashboardFiles } from './dashboard-files.js';
import { registerLazyDocs, registerLazyOpenApi } from './docs.js';
import { HttpError } from './errors.js';
import { createLazyCompilers, type LazyCompilers } from './lazy-compilers.js';
import { makeDefaultedParamsOptional, toOpenApi30Schemas } from './openapi.js';
import { registerAlertRuleRoutes } from './routes/alert-rules.js';
import { registerCollectorRoutes } from './routes/collector.js';
import { registerConfigRoutes } from './routes/config.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerExportRoutes } from './routes/export.js';
import { registerForecastRoutes } from './routes/forecast.js';
import { registerGapRoutes } from './routes/gaps.js';
import { registerFlowRoutes } from './routes/flows.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerInterfaceRoutes } from './routes/interfaces.js';
import { registerLiveRoutes } from './routes/live.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerQosRoutes } from './routes/qos.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTrafficRoutes } from './routes/traffic.js';
import { registerUsageRoutes } from './routes/usage.js';
import { SECURITY_BODY_LIMIT_BYTES, registerSecurity } from './security.js';

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface BuildAppOptions {
  /** A pino logger (the server's); without one the app logs nothing. */
  logger?: FastifyBaseLogger;
  /** The deferred schema compilers (a test passes its own to compile them all); a new set by default. */
  compilers?: LazyCompilers;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Fastify's own error codes, turned into ours. */
function codeOf(err: FastifyError): string {
  if (err.validation) return 'VALIDATION_ERROR';
  switch (err.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_TYPE':
      return 'INVALID_BODY';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'BODY_TOO_LARGE';
    default:
      return err.code && /^[A-Z_]+$/.test(err.code) && !err.code.startsWith('FST_') ? err.code : 'BAD_REQUEST';
  }
}

/** Where a validated request part holds NaN or ±Infinity (a coerced number), or null. Schemas nest shallowly. */
function nonFinitePath(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth >= 4) return null;
  for (const [key, inner] of Object.entries(value)) {
    const at = nonFinitePath(inner, `${path}/${key}`, depth + 1);
    if (at !== null) return at;
  }
  return null;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: SECURITY_BODY_LIMIT_BYTES,
    // Live streams (server-sent events) never go idle: close them on shutdown instead of waiting.
    forceCloseConnections: true,
    // One line per request is noise for a home-lab service; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    // Each route's validator and serializer is compiled on its first request, not at start (issue #13).
    schemaController: { compilersFactory: (options.compilers ?? createLazyCompilers()).compilersFactory },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: STATUS_TEXT[err.statusCode] ?? 'Error', message: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.status(500).send({ statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'The server could not answer this request; the log says why.' });
    }
    const code = codeOf(err);
    const message = err.validation
      ? `${err.validationContext ?? 'request'}${err.message.replace(/^(querystring|params|body|headers)/, '')}`
      : code === 'UNSUPPORTED_MEDIA_TYPE'
        ? `${err.message}: send the body as JSON with Content-Type: application/json`
        : err.message;
    return reply.status(status).send({ statusCode: status, code, error: STATUS_TEXT[status] ?? 'Error', message });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  // Ajv's type coercion turns a numeric string past the double range ("1e400", four hundred 9s) into ±Infinity
  // and then skips minimum/maximum, which only test finite numbers: refuse such a value before any handler.
  app.addHook('preHandler', async (request) => {
    for (const [part, value] of [['querystring', request.query], ['params', request.params], ['body', request.body]] as const) {
      const at = nonFinitePath(value, part);
      if (at !== null) throw new HttpError(400, 'VALIDATION_ERROR', `${at} must be a finite number`);
    }
  });

  await registerSecurity(app, {
    host: ctx.config.host,
    authToken: ctx.config.authToken,
    corsOrigins: ctx.config.corsOrigins,
  });

  makeDefaultedParamsOptional(app);
  // The document and the UI are made on their first request (issue #13).
  const openApi = registerLazyOpenApi(app, {
    openapi: {
      info: { title: 'Net-Pulse API', version: ctx.version, description: 'Per-interface network traffic, exact to the byte.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transformObject: (doc) => toOpenApi30Schemas('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject),
  });
  registerLazyDocs(app, openApi);

  registerHealthRoutes(app, ctx);
  registerCollectorRoutes(app, ctx);
  registerInterfaceRoutes(app, ctx);
  registerConfigRoutes(app, ctx);
  registerTrafficRoutes(app, ctx);
  registerGapRoutes(app, ctx);
  registerExportRoutes(app, ctx);
  registerSystemRoutes(app, ctx);
  registerMetricsRoutes(app, ctx);
  registerLiveRoutes(app, ctx);
  registerUsageRoutes(app, ctx);
  registerAlertRuleRoutes(app, ctx);
  registerDeviceRoutes(app, ctx);
  registerHostRoutes(app, ctx);
  registerQosRoutes(app, ctx);
  registerForecastRoutes(app, ctx);
  registerFlowRoutes(app, ctx);

  const dashboard = registerDashboardFiles(app, ctx.config.frontendDir);
  app.get('/', { schema: { tags: ['health'], summary: 'Application information as JSON (Accept: application/json); otherwise the dashboard' } }, async (request, reply) => {
    const wantsJson = (request.headers.accept ?? '').includes('application/json') && !(request.headers.accept ?? '').includes('text/html');
    if (dashboard !== null && !wantsJson) return dashboard.send(request, reply, 'index.html');
    return {
      name: 'Net-Pulse',
      version: ctx.version,
      description: 'Self-hosted network traffic monitor',
      docs: '/docs',
      health: '/health',
      api: '/api',
      dashboard: dashboard !== null ? '/' : 'not built: run npm run build',
    };
  });
  return app as unknown as App;
}
