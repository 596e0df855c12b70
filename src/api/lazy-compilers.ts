/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), deferred: a route's
 * validator or serializer is compiled on the first request that needs it instead of at start. Most of the
 * ~55 routes (flows, QoS, forecast, alerts, sync, export…) are never called on a given machine, and each
 * compiled schema is generated code kept for the life of the process (issue #13).
 *
 * Compiling is the same call with the same arguments, only later, so answers, error messages and coercion
 * are unchanged. A schema that cannot compile fails its first request with a 500 instead of the start;
 * `compileAll()` compiles every deferred schema at once, for the test that keeps them all compilable.
 */
import { createRequire } from 'node:module';
import type AjvCompiler from '@fastify/ajv-compiler';
import type SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

// The compilers themselves (Ajv, fast-json-stringify) are loaded by the first compile, not by the import.
const require = createRequire(import.meta.url);

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
/** What both factories are at run time; their published types (unions of Ajv's and JTD's) are not callable as one. */
type Compiled = ((data: unknown) => unknown) & { errors?: unknown };
type RouteSchema = { schema: unknown; method: string; url: string; httpPart?: string; httpStatus?: string };
type Factory = (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => Compiled;

export interface LazyCompilers {
  compilersFactory: CompilersFactory;
  /** Schemas seen so far and how many of them are compiled. */
  counts(): { deferred: number; compiled: number };
  /** Compiles every schema not compiled yet; throws what the first failing one throws. */
  compileAll(): void;
}

export function createLazyCompilers(): LazyCompilers {
  const buildValidator = once(() => (require('@fastify/ajv-compiler') as typeof AjvCompiler)() as unknown as Factory);
  const buildSerializer = once(() => (require('@fastify/fast-json-stringify-compiler') as typeof SerializerSelector)() as unknown as Factory);
  const pending = new Set<() => unknown>();
  let deferred = 0;

  /** A function compiled by `compile` on its first call (or by compileAll), then called directly. */
  function defer(compile: () => Compiled): () => Compiled {
    let compiled: Compiled | undefined;
    const get = (): Compiled => {
      if (compiled === undefined) {
        compiled = compile();
        pending.delete(get);
      }
      return compiled;
    };
    pending.add(get);
    deferred++;
    return get;
  }

  const lazyValidatorCompiler: Factory = (externalSchemas, options) => {
    // Fastify builds this once per schema scope; Ajv itself is created on the first compile too.
    const compilerOf = once(() => buildValidator()(externalSchemas, options));
    return (route) => {
      const get = defer(() => compilerOf()(route));
      const validate: Compiled = (data) => {
        const fn = get();
        const result = fn(data);
        // Fastify reads a failed Ajv validation's errors from the function it was given.
        validate.errors = fn.errors;
        return result;
      };
      return validate;
    };
  };

  const lazySerializerCompiler: Factory = (externalSchemas, options) => {
    const compilerOf = once(() => buildSerializer()(externalSchemas, options));
    return (route) => {
      const get = defer(() => compilerOf()(route));
      return (data) => get()(data);
    };
  };

  return {
    compilersFactory: {
      buildValidator: lazyValidatorCompiler as unknown as CompilersFactory['buildValidator'],
      buildSerializer: lazySerializerCompiler as unknown as CompilersFactory['buildSerializer'],
    },
    counts: () => ({ deferred, compiled: deferred - pending.size }),
    compileAll: () => {
      for (const get of [...pending]) get();
    },
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
