import { Type } from '../type.js';
import { isValidInterfaceName } from '../../collector/interface-name.js';
import { POLL_INTERVAL_MAX_SEC, POLL_INTERVAL_MIN_SEC } from '../../config/config.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, badRequest } from '../errors.js';
import { ErrorBody, NullableInteger, withErrors } from '../schemas.js';

const NameList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1024, description: 'Interface names' });

/** Checks a monitored-set request: names valid, no empty set, every name present now or with stored traffic. */
async function checkSelection(ctx: AppContext, names: readonly string[]): Promise<string[]> {
  if (ctx.settings.monitoredSource() === 'env') {
    throw new HttpError(409, 'INTERFACES_SET_BY_ENV', `NETPULSE_INTERFACES (${(ctx.settings.monitoredFilter() ?? []).join(',')}) decides the monitored interfaces; unset it to choose them here`);
  }
  if (names.length === 0) {
    throw badRequest('EMPTY_SELECTION', 'select at least one interface: an empty selection would stop all counting');
  }
  const invalid = names.filter((n) => !isValidInterfaceName(n));
  if (invalid.length > 0) throw badRequest('INVALID_INTERFACE_NAME', `not valid interface names: ${invalid.map((n) => JSON.stringify(n)).join(', ')}`);
  const reading = await ctx.source.readCounters();
  const present = new Set(reading.interfaces.map((i) => i.name));
  const unknown = names.filter((n) => !present.has(n) && !ctx.settings.monitored().has(n));
  const stillUnknown = unknown.filter((n) => !ctx.traffic.hasTraffic(n));
  if (stillUnknown.length > 0) {
    throw badRequest('UNKNOWN_INTERFACE', `no such interface: ${stillUnknown.join(', ')} (GET /api/interfaces lists them)`);
  }
  return [...new Set(names)];
}

/**
 * Ajv coerces types for every part of a request (coerceTypes: 'array', which query strings need), bodies too:
 * "eth0" would pass as ["eth0"] and {"interval_seconds":"30"} as 30. A JSON body must come with the right
 * types, so they are checked as sent, before validation; what is missing is left to the schema to name.
 */
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNameArray = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'string');
function bodyAsSent(isValid: (body: unknown) => boolean, expected: string) {
  return async (req: { body: unknown }) => {
    if (!isValid(req.body)) throw badRequest('VALIDATION_ERROR', `body must be ${expected}, sent as Content-Type: application/json`);
  };
}

const IntervalBody = Type.Object({
  interval_seconds: Type.Integer({ minimum: POLL_INTERVAL_MIN_SEC, maximum: POLL_INTERVAL_MAX_SEC }),
}, { additionalProperties: false });

const Interval = Type.Object({
  interval_seconds: Type.Integer(),
  source: Type.String({ enum: ['env', 'config', 'default'] }),
  configured_seconds: NullableInteger,
  min_seconds: Type.Integer(),
  max_seconds: Type.Integer(),
});

function intervalView(ctx: AppContext) {
  const i = ctx.settings.interval();
  return { interval_seconds: i.intervalSec, source: i.source, configured_seconds: i.configuredSec, min_seconds: POLL_INTERVAL_MIN_SEC, max_seconds: POLL_INTERVAL_MAX_SEC };
}

export function registerConfigRoutes(app: App, ctx: AppContext): void {
  const tags = ['config'];
  const security = [{ bearer: [] }];

  app.get('/api/config/monitored_interfaces', { schema: { tags, summary: 'The monitored interfaces (a JSON array of names)', response: { 200: Type.Array(Type.String()) } } }, async () => ctx.settings.monitoredList());

  app.post(
    '/api/config/monitored_interfaces',
    {
      schema: { tags, summary: 'Replace the monitored interfaces with a JSON array of names', security, body: NameList, response: { ...withErrors({ 200: Type.Array(Type.String()) }), 409: ErrorBody } },
      preValidation: bodyAsSent(isNameArray, 'a JSON array of interface names, e.g. ["eth0"]'),
    },
    async (req) => ctx.settings.setMonitored(await checkSelection(ctx, req.body)),
  );

  const InterfacesObject = Type.Object({
    interfaces: Type.Array(Type.String()),
    source: Type.Optional(Type.String({ enum: ['env', 'config'], description: "'env': NETPULSE_INTERFACES decides the set, writes are refused" })),
    filter: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'NETPULSE_INTERFACES as set, or null' })),
  });
  const interfacesView = (interfaces: string[]) => {
    const filter = ctx.settings.monitoredFilter();
    return { interfaces, source: ctx.settings.monitoredSource(), filter: filter === null ? null : filter.join(',') };
  };
  app.get('/api/config/interfaces', { schema: { tags, summary: 'The monitored interfaces, as { interfaces: [...] }, and whether NETPULSE_INTERFACES decides them', response: { 200: InterfacesObject } } }, async () => interfacesView(ctx.settings.monitoredList()));

  app.put(
    '/api/config/interfaces',
    {
      schema: {
        tags,
        summary: 'Replace the monitored interfaces: { "interfaces": [names] }',
        security,
        body: Type.Object({ interfaces: NameList }, { additionalProperties: false }),
        response: { ...withErrors({ 200: InterfacesObject }), 409: ErrorBody },
      },
      preValidation: bodyAsSent((b) => isPlainObject(b) && (!('interfaces' in b) || isNameArray(b.interfaces)), 'an object { "interfaces": ["eth0", ...] }'),
    },
    async (req) => interfacesView(ctx.settings.setMonitored(await checkSelection(ctx, req.body.interfaces))),
  );

  app.get('/api/config/collection-interval', { schema: { tags, summary: 'Seconds between polls, and whether NETPULSE_POLL_INTERVAL overrides the stored value', response: { 200: Interval } } }, async () => intervalView(ctx));

  app.put(
    '/api/config/collection-interval',
    {
      schema: { tags, summary: `Store the poll interval (${POLL_INTERVAL_MIN_SEC}–${POLL_INTERVAL_MAX_SEC} s); applies at once unless NETPULSE_POLL_INTERVAL is set`, security, body: IntervalBody, response: withErrors({ 200: Interval }) },
      preValidation: bodyAsSent((b) => isPlainObject(b) && (!('interval_seconds' in b) || typeof b.interval_seconds === 'number'), 'an object { "interval_seconds": <whole seconds as a JSON number> }'),
    },
    async (req) => {
      const setting = ctx.settings.setInterval(req.body.interval_seconds);
      ctx.collector.setInterval(setting.intervalSec);
      return intervalView(ctx);
    },
  );
}
