/**
 * The schema builders the routes use, as plain functions that return the same JSON Schema objects TypeBox's
 * do, with TypeBox's own static types (imported as types only: erased from the build). Importing TypeBox at
 * run time loads its ~370 ES modules (the Fastify type provider ~680, with the compiler and value packages
 * it does not need here): +29 MiB RSS measured before the server does anything (issue #13), for builders
 * that only assemble objects. Fastify validates with its own Ajv, as before.
 * test/api/type-builder.test.ts checks every builder against TypeBox's output.
 */
import type { Type as TypeBoxType } from 'typebox';

type Builders = Pick<
  typeof TypeBoxType,
  'String' | 'Integer' | 'Number' | 'Boolean' | 'Null' | 'Unknown' | 'Literal' | 'Array' | 'Optional' | 'Object' | 'Union' | 'Unsafe' | 'Record' | 'Omit' | 'Intersect'
>;
type Schema = Record<string, unknown>;
type Options = Schema | undefined;

/** Marks a property optional without showing in the JSON (TypeBox uses the same non-enumerable key). */
const OPTIONAL = '~optional';
const isOptional = (s: unknown): boolean => typeof s === 'object' && s !== null && (s as Schema)[OPTIONAL] === true;

function object(properties: Record<string, Schema>, options?: Options): Schema {
  const required = Object.keys(properties).filter((k) => !isOptional(properties[k]));
  return { type: 'object', ...(required.length > 0 ? { required } : {}), properties, ...options };
}

const builders = {
  String: (options?: Options) => ({ type: 'string', ...options }),
  Integer: (options?: Options) => ({ type: 'integer', ...options }),
  Number: (options?: Options) => ({ type: 'number', ...options }),
  Boolean: (options?: Options) => ({ type: 'boolean', ...options }),
  Null: (options?: Options) => ({ type: 'null', ...options }),
  Unknown: (options?: Options) => ({ ...options }),
  Literal: (value: string | number | boolean, options?: Options) => ({ type: typeof value, const: value, ...options }),
  Array: (items: Schema, options?: Options) => ({ type: 'array', items, ...options }),
  Optional: (schema: Schema) => Object.defineProperty({ ...schema }, OPTIONAL, { value: true, enumerable: false }),
  Object: object,
  Union: (anyOf: Schema[], options?: Options) => ({ anyOf, ...options }),
  Unsafe: (schema: Schema) => ({ ...schema }),
  Record: (key: Schema, value: Schema, options?: Options) => {
    if (key.type !== 'string' || Object.keys(key).length !== 1) throw new Error('Type.Record: only a plain string key is supported here');
    return { type: 'object', patternProperties: { '^.*$': value }, ...options };
  },
  // As TypeBox: the remaining properties as a new object, without the source's other keywords.
  Omit: (schema: Schema, keys: readonly string[]) => {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    return object(Object.fromEntries(Object.entries(properties).filter(([k]) => !keys.includes(k))));
  },
  Intersect: (allOf: Schema[], options?: Options) => ({ allOf, ...options }),
};

export const Type = builders as unknown as Builders;
