/**
 * The data-cap form's rules, kept out of the component so they can be tested: the server's cap → the
 * form's fields, the fields checked (each problem in words, next to its field) and turned into the PUT
 * body. Limits are decimal (GB = 10^9 bytes, TB = 10^12) and sent as text ("1.5 TB"), which the server
 * reads exactly; a limit left as it was is sent back as the same byte count, so saving never rounds it.
 */
import type { ApiCapDirection, ApiDataCap, ApiDataCapUpdate } from '$shared/api-types';

export type CapUnit = 'GB' | 'TB';

export const CAP_UNITS: Record<CapUnit, bigint> = { GB: 10n ** 9n, TB: 10n ** 12n };
export const MAX_CAP_BYTES = 2n ** 62n;
export const MAX_THRESHOLDS = 10;
export const DEFAULT_THRESHOLDS: readonly number[] = [80, 100];

export interface CapForm {
  /** The limit's number as typed; empty: no cap. */
  amount: string;
  unit: CapUnit;
  /** null: the total. */
  interfaceName: string | null;
  direction: ApiCapDirection;
  /** "80, 100" */
  thresholds: string;
  /** 1–28 as typed (a number input may hand over a number). */
  monthStartDay: string | number;
}

export interface CapFormErrors {
  amount?: string;
  thresholds?: string;
  monthStartDay?: string;
}

export type CapFormCheck = { ok: true; update: ApiDataCapUpdate; limitBytes: bigint | null } | { ok: false; errors: CapFormErrors };

/** `bytes / unit` written exactly with at most `maxDigits` decimals (rounded beyond), trailing zeros dropped. */
function divideToText(bytes: bigint, unit: bigint, maxDigits = 6): string {
  const scale = 10n ** BigInt(maxDigits);
  const scaled = (bytes * scale + unit / 2n) / unit;
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(maxDigits, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** The form as the server's cap fills it: TB for whole or tenth terabytes (1 TB, 1.5 TB), else GB (3892 GB). */
export function capFormFromServer(cap: ApiDataCap): CapForm {
  let amount = '';
  let unit: CapUnit = 'GB';
  if (cap.limit_bytes !== null) {
    const bytes = BigInt(Math.round(cap.limit_bytes));
    unit = bytes >= CAP_UNITS.TB && bytes % (CAP_UNITS.TB / 10n) === 0n ? 'TB' : 'GB';
    amount = divideToText(bytes, CAP_UNITS[unit]);
  }
  return {
    amount,
    unit,
    interfaceName: cap.interface,
    direction: cap.direction,
    thresholds: (cap.thresholds_percent.length > 0 ? cap.thresholds_percent : DEFAULT_THRESHOLDS).join(', '),
    monthStartDay: String(cap.month_start_day),
  };
}

/** The limit in bytes, or a reason in words; empty means no cap (null). */
export function parseCapAmount(amount: string, unit: CapUnit): { ok: true; bytes: bigint | null } | { ok: false; reason: string } {
  const text = amount.trim();
  if (text === '') return { ok: true, bytes: null };
  if (/^\d+,\d+$/.test(text)) return { ok: false, reason: 'Use a point for decimals, like 1.5.' };
  const m = /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return { ok: false, reason: `Enter the cap as a number of ${unit}, like 500 or 1.5.` };
  const fraction = m[2] ?? '';
  const bytes = (BigInt(m[1]! + fraction) * CAP_UNITS[unit]) / 10n ** BigInt(fraction.length);
  if (bytes < 1n) return { ok: false, reason: 'The cap must be more than zero.' };
  if (bytes >= MAX_CAP_BYTES) return { ok: false, reason: `That is more than this server can count; use at most ${divideToText(MAX_CAP_BYTES - 1n, CAP_UNITS[unit], 0)} ${unit}.` };
  return { ok: true, bytes };
}

/** "80, 100" (commas, spaces or % signs between) → [80, 100] sorted without repeats, or a reason. */
export function parseThresholds(text: string): { ok: true; percents: number[] } | { ok: false; reason: string } {
  const parts = text
    .split(/[\s,;%]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, reason: 'Give at least one percent to be alerted at, like 80, 100.' };
  const percents: number[] = [];
  for (const part of parts) {
    if (!/^\d+$/.test(part)) return { ok: false, reason: `“${part}” is not a whole percent.` };
    const n = Number(part);
    if (n < 1 || n > 1000) return { ok: false, reason: 'Each threshold must be between 1 and 1000 %.' };
    percents.push(n);
  }
  const unique = [...new Set(percents)].sort((a, b) => a - b);
  if (unique.length > MAX_THRESHOLDS) return { ok: false, reason: `At most ${MAX_THRESHOLDS} thresholds.` };
  return { ok: true, percents: unique };
}

/** 1–28: every month has those days. */
export function parseMonthStartDay(text: string | number): { ok: true; day: number } | { ok: false; reason: string } {
  const t = String(text).trim();
  if (!/^\d{1,2}$/.test(t) || Number(t) < 1 || Number(t) > 28) return { ok: false, reason: 'Choose a day from 1 to 28 (every month has those).' };
  return { ok: true, day: Number(t) };
}

export interface CapFormContext {
  /** The cap as saved: a limit left unchanged keeps its exact byte count. */
  saved: ApiDataCap;
  /** NETPULSE_MONTH_START_DAY sets the day: the body leaves it out (sending another day is refused). */
  monthStartDayFromEnv: boolean;
}

/** Checks every field and builds the PUT body, which always carries every field (left out = reset to default). */
export function checkCapForm(form: CapForm, context: CapFormContext): CapFormCheck {
  const errors: CapFormErrors = {};
  const savedForm = capFormFromServer(context.saved);
  const unchangedLimit = form.amount.trim() === savedForm.amount && form.unit === savedForm.unit;
  const amount = parseCapAmount(form.amount, form.unit);
  if (!amount.ok) errors.amount = amount.reason;
  const thresholds = parseThresholds(form.thresholds);
  if (!thresholds.ok) errors.thresholds = thresholds.reason;
  const day = context.monthStartDayFromEnv ? null : parseMonthStartDay(form.monthStartDay);
  if (day && !day.ok) errors.monthStartDay = day.reason;
  if (!amount.ok || !thresholds.ok || (day && !day.ok)) return { ok: false, errors };

  const update: ApiDataCapUpdate = {};
  if (amount.bytes === null) update.limit_bytes = null;
  else if (unchangedLimit && context.saved.limit_bytes !== null) update.limit_bytes = context.saved.limit_bytes;
  else update.limit = `${form.amount.trim()} ${form.unit}`;
  update.interface = form.interfaceName;
  update.direction = form.direction;
  update.thresholds_percent = thresholds.percents;
  if (day) update.month_start_day = day.day;
  const limitBytes = amount.bytes !== null && unchangedLimit && context.saved.limit_bytes !== null ? BigInt(Math.round(context.saved.limit_bytes)) : amount.bytes;
  return { ok: true, update, limitBytes };
}

/** The body that removes the cap and keeps everything else (the billing day above all) as saved. */
export function removeCapUpdate(saved: ApiDataCap): ApiDataCapUpdate {
  const update: ApiDataCapUpdate = {
    limit_bytes: null,
    interface: saved.interface,
    direction: saved.direction,
    thresholds_percent: [...saved.thresholds_percent],
  };
  if (saved.month_start_day_source !== 'env') update.month_start_day = saved.month_start_day;
  return update;
}

/** Whether the form differs from the saved cap in anything that would be stored. */
export function capFormChanged(form: CapForm, saved: ApiDataCap): boolean {
  const base = capFormFromServer(saved);
  const thresholds = parseThresholds(form.thresholds);
  const savedThresholds = parseThresholds(base.thresholds);
  const sameThresholds =
    thresholds.ok && savedThresholds.ok ? thresholds.percents.join(',') === savedThresholds.percents.join(',') : form.thresholds.trim() === base.thresholds;
  const amount = parseCapAmount(form.amount, form.unit);
  const savedAmount = parseCapAmount(base.amount, base.unit);
  const sameAmount = amount.ok && savedAmount.ok ? amount.bytes === savedAmount.bytes : form.amount.trim() === base.amount && form.unit === base.unit;
  return (
    !sameAmount ||
    !sameThresholds ||
    form.interfaceName !== base.interfaceName ||
    form.direction !== base.direction ||
    (saved.month_start_day_source !== 'env' && String(form.monthStartDay).trim() !== String(base.monthStartDay))
  );
}
