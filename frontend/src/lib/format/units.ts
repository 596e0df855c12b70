/**
 * Human units for traffic: rates in bits/s or bytes/s, volumes in bytes, with decimal (SI, ×1000)
 * or binary (IEC, ×1024) prefixes. Every input is in bytes (or bytes per second); bits are ×8 here only.
 */

export type RateUnit = 'bits' | 'bytes';
export type PrefixSystem = 'si' | 'iec';

export interface UnitPrefs {
  rateUnit: RateUnit;
  prefixSystem: PrefixSystem;
}

const RATE_LABELS: Record<RateUnit, Record<PrefixSystem, readonly string[]>> = {
  bits: {
    si: ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s', 'Pbit/s'],
    iec: ['bit/s', 'Kibit/s', 'Mibit/s', 'Gibit/s', 'Tibit/s', 'Pibit/s'],
  },
  bytes: {
    si: ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s', 'PB/s'],
    iec: ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s', 'PiB/s'],
  },
};

const VOLUME_LABELS: Record<PrefixSystem, readonly string[]> = {
  si: ['B', 'kB', 'MB', 'GB', 'TB', 'PB'],
  iec: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'],
};

/** One step of a prefix ladder: divide a value by `divisor` and write `label` after it. */
export interface UnitScale {
  divisor: number;
  label: string;
}

function baseOf(prefixSystem: PrefixSystem): number {
  return prefixSystem === 'iec' ? 1024 : 1000;
}

/**
 * The prefix that writes `value` with at most three digits before the point: the largest step whose
 * scaled value is ≥ 1, moved up once more when the scaled value would still show 1000 or more
 * (binary prefixes: 1000–1023 KiB is written 0.98 MiB).
 */
function pickScale(value: number, labels: readonly string[], base: number): UnitScale {
  const magnitude = Math.abs(value);
  let step = 0;
  while (step < labels.length - 1 && magnitude >= base ** (step + 1)) step += 1;
  if (step < labels.length - 1 && roundSignificant(magnitude / base ** step) >= 1000) step += 1;
  return { divisor: base ** step, label: labels[step] ?? labels[0]! };
}

function roundSignificant(value: number): number {
  if (value === 0) return 0;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function formatScaled(value: number, locale: string | undefined): string {
  const magnitude = Math.abs(value);
  const fractionDigits = magnitude === 0 ? 0 : magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(value);
}

/** Rate scale for a value in bytes per second, in the user's unit (the divisor already includes ×8 for bits). */
export function pickRateScale(bytesPerSec: number, prefs: UnitPrefs): UnitScale {
  const factor = prefs.rateUnit === 'bits' ? 8 : 1;
  const scale = pickScale(bytesPerSec * factor, RATE_LABELS[prefs.rateUnit][prefs.prefixSystem], baseOf(prefs.prefixSystem));
  return { divisor: scale.divisor / factor, label: scale.label };
}

/** "12.4 Mbit/s", "1.55 MB/s", "980 KiB/s"; three significant digits. */
export function formatRate(bytesPerSec: number, prefs: UnitPrefs, locale?: string): string {
  if (!Number.isFinite(bytesPerSec)) return '–';
  const scale = pickRateScale(bytesPerSec, prefs);
  return `${formatScaled(bytesPerSec / scale.divisor, locale)} ${scale.label}`;
}

/** "1.23 GB" or "1.15 GiB"; three significant digits. */
export function formatBytes(bytes: number, prefixSystem: PrefixSystem, locale?: string): string {
  if (!Number.isFinite(bytes)) return '–';
  const scale = pickScale(bytes, VOLUME_LABELS[prefixSystem], baseOf(prefixSystem));
  return `${formatScaled(bytes / scale.divisor, locale)} ${scale.label}`;
}

/** An exact integer with thousands separators: "93,245,112". */
export function formatExact(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
}

/** An exact rate in the user's base unit: "1,234,567 bit/s" or "154,321 B/s". */
export function formatExactRate(bytesPerSec: number, prefs: UnitPrefs, locale?: string): string {
  const value = prefs.rateUnit === 'bits' ? bytesPerSec * 8 : bytesPerSec;
  return `${formatExact(value, locale)} ${prefs.rateUnit === 'bits' ? 'bit/s' : 'B/s'}`;
}

/** A number on an axis already divided by its scale: "0", "2.5", "250" (trailing zeros dropped). */
export function formatAxisNumber(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value);
}
