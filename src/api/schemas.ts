/** JSON schemas shared by routes: they validate input once, and shape (and document) every answer. */
import type { TSchema } from '@fastify/type-provider-typebox';
import { Type } from './type.js';

/** A byte or packet count: written exactly even past 2^53 (BigInt in, JSON integer out). */
export const Count = Type.Unsafe<number | bigint>({ type: 'integer', minimum: 0 });
/** A count that is null where there is no data. */
export const NullableCount = Type.Unsafe<number | bigint | null>({ type: 'integer', nullable: true });
export const NullableString = Type.Unsafe<string | null>({ type: 'string', nullable: true });
export const NullableInteger = Type.Unsafe<number | null>({ type: 'integer', nullable: true });
export const NullableNumber = Type.Unsafe<number | null>({ type: 'number', nullable: true });

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
  },
  { description: 'Every 4xx and 5xx answer: a stable code and a message for people' },
);

export const InterfaceNameParam = Type.String({
  minLength: 1,
  maxLength: 15,
  pattern: '^[^/:\\s]+$',
  description: 'Interface name as the kernel spells it (1–15 characters, no "/", ":" or spaces).',
});

export const Counters = Type.Object({
  rx_bytes: Count,
  tx_bytes: Count,
  rx_packets: Count,
  tx_packets: Count,
  rx_errors: Count,
  tx_errors: Count,
  rx_drops: Count,
  tx_drops: Count,
});

export const InterfaceKindSchema = Type.Union(
  ['ethernet', 'wireless', 'loopback', 'bridge', 'tunnel', 'container', 'virtual', 'other'].map((k) => Type.Literal(k)),
);

export const ApiInterfaceSchema = Type.Object({
  name: Type.String(),
  kind: Type.String({ enum: ['ethernet', 'wireless', 'loopback', 'bridge', 'tunnel', 'container', 'virtual', 'other'] }),
  is_up: Type.Boolean(),
  oper_state: Type.String(),
  addresses: Type.Array(
    Type.Object({
      family: Type.String({ enum: ['IPv4', 'IPv6'] }),
      address: Type.String(),
      netmask: Type.String(),
      cidr: NullableString,
    }),
  ),
  mac: NullableString,
  mtu: NullableInteger,
  speed: NullableInteger,
  is_virtual: Type.Boolean(),
  is_primary: Type.Boolean(),
  monitored: Type.Boolean(),
  counters: Type.Unsafe<Record<string, number | bigint> | null>({ ...Counters, nullable: true }),
});

/** Responses every route may give besides its success: 4xx and 5xx bodies. */
export function withErrors<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, 400: ErrorBody, 404: ErrorBody, 500: ErrorBody };
}
