/**
 * Alert rules beyond the data cap (issue #12), the pure half: what a rule is, and whether it holds given the
 * numbers the service gathers. Three kinds:
 *   rate_above     every one of the last `minutes` whole minutes ran above bytes_per_sec (rx, tx or both
 *                  summed), on one interface or on the monitored total (interface null); clears when the last
 *                  whole minute is at or below it;
 *   interface_down the interface is down or gone; clears when it is up;
 *   no_traffic     an interface that had traffic in the week before moved nothing for `minutes` minutes while
 *                  the collector ran; clears at its first traffic.
 */
import type { Static } from '@fastify/type-provider-typebox';
import { Type } from '../api/type.js';

export const RULE_TYPES = ['rate_above', 'interface_down', 'no_traffic'] as const;
export type RuleType = (typeof RULE_TYPES)[number];
export const RATE_DIRECTIONS = ['rx', 'tx', 'total'] as const;
export type RateDirection = (typeof RATE_DIRECTIONS)[number];

export const MAX_RULES = 100;
export const MAX_RULE_MINUTES = 1440;
/** How far back no_traffic looks to decide an interface "usually has some". */
export const USUAL_TRAFFIC_LOOKBACK_SEC = 7 * 86_400;

const Id = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Your name for the rule (letters, digits, _ . -)' });
const Iface = Type.String({ pattern: '^[A-Za-z0-9_.@:-]{1,64}$' });
const Minutes = Type.Integer({ minimum: 1, maximum: MAX_RULE_MINUTES });

export const AlertRuleSchema = Type.Union([
  Type.Object(
    {
      id: Id,
      type: Type.Literal('rate_above'),
      interface: Type.Union([Iface, Type.Null()], { description: 'null: the sum of the monitored interfaces' }),
      direction: Type.String({ enum: [...RATE_DIRECTIONS] }),
      bytes_per_sec: Type.Integer({ minimum: 1, maximum: 1e15 }),
      minutes: Minutes,
    },
    { additionalProperties: false },
  ),
  Type.Object({ id: Id, type: Type.Literal('interface_down'), interface: Iface }, { additionalProperties: false }),
  Type.Object({ id: Id, type: Type.Literal('no_traffic'), interface: Iface, minutes: Minutes }, { additionalProperties: false }),
]);
export type AlertRule = Static<typeof AlertRuleSchema>;
export const AlertRulesBody = Type.Object({ rules: Type.Array(AlertRuleSchema, { maxItems: MAX_RULES }) }, { additionalProperties: false });

/** Problems the schema cannot see: ids must be unique. */
export function checkRules(rules: readonly AlertRule[]): string | null {
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id)) return `rule id "${r.id}" is used twice`;
    seen.add(r.id);
  }
  return null;
}

/** A rule's identity for its open alert: a changed rule is a new rule. */
export function ruleKey(rule: AlertRule): string {
  return JSON.stringify(rule, Object.keys(rule).sort());
}

export interface RateFacts {
  /** Bytes of the chosen direction in each of the last whole minutes, oldest first (missing minutes are 0). */
  minuteBytes: bigint[];
}
export interface DownFacts {
  present: boolean;
  isUp: boolean;
}
export interface IdleFacts {
  /** Bytes (rx + tx) over the last `minutes`. */
  windowBytes: bigint;
  /** Bytes of the last whole minute. */
  lastMinuteBytes: bigint;
  /** The collector covered the whole window. */
  covered: boolean;
  /** Bytes in the week before the window. */
  usualBytes: bigint;
}

export type Verdict = { state: 'firing' | 'clear' | 'unchanged'; value: string };

/** Whether a rate rule fires (all minutes above), clears (the last minute at or below) or neither. */
export function judgeRate(rule: Extract<AlertRule, { type: 'rate_above' }>, facts: RateFacts): Verdict {
  const limit = BigInt(rule.bytes_per_sec) * 60n;
  const last = facts.minuteBytes.at(-1) ?? 0n;
  const value = `${last / 60n} B/s`;
  if (facts.minuteBytes.length >= rule.minutes && facts.minuteBytes.slice(-rule.minutes).every((b) => b > limit)) return { state: 'firing', value };
  return { state: last > limit ? 'unchanged' : 'clear', value };
}

export function judgeDown(facts: DownFacts): Verdict {
  return facts.present && facts.isUp ? { state: 'clear', value: 'up' } : { state: 'firing', value: facts.present ? 'down' : 'gone' };
}

export function judgeIdle(facts: IdleFacts): Verdict {
  const value = `${facts.windowBytes} B`;
  if (facts.windowBytes === 0n && facts.covered && facts.usualBytes > 0n) return { state: 'firing', value };
  return { state: facts.lastMinuteBytes > 0n ? 'clear' : 'unchanged', value };
}
