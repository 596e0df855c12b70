/**
 * OpenAPI document fixes.
 *
 * A query or header parameter with a default is optional: the validator fills the default in, so the
 * caller may leave it out. Typebox writes every property not wrapped in Type.Optional into `required`,
 * which /docs/json then shows as a required parameter, and a generated client refuses to call without it.
 * This hook drops such properties from `required` for every route, before the validator and the OpenAPI
 * document are built (the handler still sees the filled-in value, so its types stay as they are).
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

interface ObjectSchema {
  type?: unknown;
  properties?: Record<string, { default?: unknown }>;
  required?: string[];
}

/** The schema with every defaulted property taken out of `required` (a copy; shared schemas stay as they are). */
export function withDefaultsOptional<T>(schema: T): T {
  const s = schema as ObjectSchema | undefined;
  if (s === undefined || s === null || typeof s !== 'object' || !Array.isArray(s.required) || s.properties === undefined) return schema;
  const required = s.required.filter((name) => s.properties?.[name]?.default === undefined);
  if (required.length === s.required.length) return schema;
  const copy = { ...s, required } as ObjectSchema;
  if (required.length === 0) delete copy.required;
  return copy as T;
}

export function makeDefaultedParamsOptional(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.schema === undefined) return;
    // Only where a schema is given: a key set to undefined makes Fastify warn that the schema is missing.
    if (route.schema.querystring !== undefined) route.schema.querystring = withDefaultsOptional(route.schema.querystring);
    if (route.schema.headers !== undefined) route.schema.headers = withDefaultsOptional(route.schema.headers);
  });
}

/**
 * The validator speaks JSON Schema draft 7, where `exclusiveMinimum: 0` is a number; OpenAPI 3.0's schema
 * object has the older form, `minimum: 0, exclusiveMinimum: true`. Returns a copy of the generated document
 * in that form (it shares schema objects with the routes, whose validation keeps draft 7).
 */
export function toOpenApi30Schemas<T>(generated: T): T {
  const doc = JSON.parse(JSON.stringify(generated)) as T;
  const visit = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== 'object' || depth > 64) return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
      return;
    }
    const o = node as Record<string, unknown>;
    for (const [bound, exclusive] of [['minimum', 'exclusiveMinimum'], ['maximum', 'exclusiveMaximum']] as const) {
      if (typeof o[exclusive] === 'number') {
        o[bound] = o[exclusive];
        o[exclusive] = true;
      }
    }
    for (const value of Object.values(o)) visit(value, depth + 1);
  };
  visit(doc, 0);
  return doc;
}
