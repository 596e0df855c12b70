import { describe, expect, it } from 'vitest';
import type { ApiDataCap } from '$shared/api-types';
import { capFormChanged, capFormFromServer, checkCapForm, parseCapAmount, parseMonthStartDay, parseThresholds, removeCapUpdate, type CapForm } from './cap-form';

function saved(overrides: Partial<ApiDataCap> = {}): ApiDataCap {
  return {
    limit_bytes: null,
    interface: null,
    direction: 'both',
    thresholds_percent: [80, 100],
    month_start_day: 1,
    month_start_day_source: 'default',
    timezone: 'UTC',
    units: 'decimal',
    webhook_configured: false,
    updated_at: null,
    status: null,
    ...overrides,
  };
}

const form = (overrides: Partial<CapForm> = {}): CapForm => ({
  amount: '1',
  unit: 'TB',
  interfaceName: null,
  direction: 'both',
  thresholds: '80, 100',
  monthStartDay: '1',
  ...overrides,
});

describe('parseCapAmount', () => {
  it('reads whole and decimal amounts exactly in decimal units', () => {
    expect(parseCapAmount('1.5', 'TB')).toEqual({ ok: true, bytes: 1_500_000_000_000n });
    expect(parseCapAmount(' 500 ', 'GB')).toEqual({ ok: true, bytes: 500_000_000_000n });
    expect(parseCapAmount('0.000001', 'GB')).toEqual({ ok: true, bytes: 1000n });
  });

  it('reads an empty amount as no cap', () => {
    expect(parseCapAmount('  ', 'GB')).toEqual({ ok: true, bytes: null });
  });

  it('refuses zero, words, negative numbers and a decimal comma, in words', () => {
    expect(parseCapAmount('0', 'GB')).toEqual({ ok: false, reason: 'The cap must be more than zero.' });
    expect(parseCapAmount('lots', 'GB')).toMatchObject({ ok: false, reason: expect.stringContaining('like 500 or 1.5') });
    expect(parseCapAmount('-5', 'TB').ok).toBe(false);
    expect(parseCapAmount('1,5', 'TB')).toEqual({ ok: false, reason: 'Use a point for decimals, like 1.5.' });
    expect(parseCapAmount('1.1234567', 'TB').ok).toBe(false);
  });

  it('refuses a cap past what the server counts (2^62 bytes)', () => {
    expect(parseCapAmount('5000000', 'TB')).toMatchObject({ ok: false, reason: expect.stringContaining('at most 4611686 TB') });
    expect(parseCapAmount('4611686', 'TB').ok).toBe(true);
  });
});

describe('parseThresholds', () => {
  it('reads commas, spaces and percent signs, sorted without repeats', () => {
    expect(parseThresholds('100, 80%  50;80')).toEqual({ ok: true, percents: [50, 80, 100] });
  });

  it('refuses an empty list, fractions, out-of-range values and more than ten', () => {
    expect(parseThresholds(' ').ok).toBe(false);
    expect(parseThresholds('80.5')).toEqual({ ok: false, reason: '“80.5” is not a whole percent.' });
    expect(parseThresholds('0, 100')).toEqual({ ok: false, reason: 'Each threshold must be between 1 and 1000 %.' });
    expect(parseThresholds('1 2 3 4 5 6 7 8 9 10 11')).toEqual({ ok: false, reason: 'At most 10 thresholds.' });
  });
});

describe('parseMonthStartDay', () => {
  it('takes 1 to 28 only', () => {
    expect(parseMonthStartDay('15')).toEqual({ ok: true, day: 15 });
    expect(parseMonthStartDay(15)).toEqual({ ok: true, day: 15 });
    expect(parseMonthStartDay('29').ok).toBe(false);
    expect(parseMonthStartDay('0').ok).toBe(false);
    expect(parseMonthStartDay('').ok).toBe(false);
  });
});

describe('capFormFromServer', () => {
  it('shows no amount without a cap', () => {
    expect(capFormFromServer(saved())).toMatchObject({ amount: '', thresholds: '80, 100', monthStartDay: '1' });
  });

  it('writes whole and tenth terabytes in TB, anything else in GB as typed', () => {
    expect(capFormFromServer(saved({ limit_bytes: 1_500_000_000_000 }))).toMatchObject({ amount: '1.5', unit: 'TB' });
    expect(capFormFromServer(saved({ limit_bytes: 3_892_000_000_000 }))).toMatchObject({ amount: '3892', unit: 'GB' });
    expect(capFormFromServer(saved({ limit_bytes: 250_000_000_000 }))).toMatchObject({ amount: '250', unit: 'GB' });
    expect(capFormFromServer(saved({ limit_bytes: 500_000_000 }))).toMatchObject({ amount: '0.5', unit: 'GB' });
  });

  it('rounds a binary cap to six decimals for display', () => {
    expect(capFormFromServer(saved({ limit_bytes: 2 ** 40 }))).toMatchObject({ amount: '1099.511628', unit: 'GB' });
  });
});

describe('checkCapForm', () => {
  it('sends a new limit as text the server reads exactly, with every other field', () => {
    const check = checkCapForm(form({ amount: '1.5', interfaceName: 'eth0', direction: 'rx', thresholds: '90, 50', monthStartDay: '15' }), {
      saved: saved(),
      monthStartDayFromEnv: false,
    });
    expect(check).toEqual({
      ok: true,
      limitBytes: 1_500_000_000_000n,
      update: { limit: '1.5 TB', interface: 'eth0', direction: 'rx', thresholds_percent: [50, 90], month_start_day: 15 },
    });
  });

  it('sends an unchanged limit back as its exact byte count, never the rounded text', () => {
    const tib = saved({ limit_bytes: 2 ** 40 });
    const check = checkCapForm(capFormFromServer(tib), { saved: tib, monthStartDayFromEnv: false });
    expect(check.ok && check.update).toMatchObject({ limit_bytes: 2 ** 40 });
    expect(check.ok && 'limit' in check.update).toBe(false);
  });

  it('sends limit_bytes null for an empty amount', () => {
    const check = checkCapForm(form({ amount: '' }), { saved: saved(), monthStartDayFromEnv: false });
    expect(check.ok && check.update.limit_bytes).toBeNull();
  });

  it('leaves the billing day out when the environment sets it', () => {
    const check = checkCapForm(form({ monthStartDay: 'ignored' }), { saved: saved({ month_start_day_source: 'env' }), monthStartDayFromEnv: true });
    expect(check.ok).toBe(true);
    expect(check.ok && 'month_start_day' in check.update).toBe(false);
  });

  it('gathers each field’s problem', () => {
    const check = checkCapForm(form({ amount: 'x', thresholds: '', monthStartDay: '31' }), { saved: saved(), monthStartDayFromEnv: false });
    expect(check.ok).toBe(false);
    expect(!check.ok && Object.keys(check.errors).sort()).toEqual(['amount', 'monthStartDay', 'thresholds']);
  });
});

describe('removeCapUpdate', () => {
  it('removes the limit and keeps the rest, the billing day above all', () => {
    expect(removeCapUpdate(saved({ limit_bytes: 10, interface: 'eth0', month_start_day: 15, month_start_day_source: 'config', thresholds_percent: [90] }))).toEqual({
      limit_bytes: null,
      interface: 'eth0',
      direction: 'both',
      thresholds_percent: [90],
      month_start_day: 15,
    });
  });

  it('leaves out a billing day the environment sets', () => {
    expect('month_start_day' in removeCapUpdate(saved({ limit_bytes: 10, month_start_day_source: 'env' }))).toBe(false);
  });
});

describe('capFormChanged', () => {
  const tb = saved({ limit_bytes: 1_000_000_000_000 });

  it('is unchanged for the saved cap however the same values are written', () => {
    expect(capFormChanged(capFormFromServer(tb), tb)).toBe(false);
    expect(capFormChanged(form({ amount: '1000', unit: 'GB', thresholds: '100 80' }), tb)).toBe(false);
  });

  it('sees a new amount, scope, direction, thresholds or day', () => {
    expect(capFormChanged(form({ amount: '2' }), tb)).toBe(true);
    expect(capFormChanged(form({ interfaceName: 'eth0' }), tb)).toBe(true);
    expect(capFormChanged(form({ direction: 'tx' }), tb)).toBe(true);
    expect(capFormChanged(form({ thresholds: '80' }), tb)).toBe(true);
    expect(capFormChanged(form({ monthStartDay: '2' }), tb)).toBe(true);
  });

  it('reads the day from a number input as a number too', () => {
    expect(capFormChanged(form({ monthStartDay: 1 }), tb)).toBe(false);
    expect(capFormChanged(form({ monthStartDay: 15 }), tb)).toBe(true);
    expect(checkCapForm(form({ monthStartDay: 15 }), { saved: tb, monthStartDayFromEnv: false })).toMatchObject({ ok: true, update: { month_start_day: 15 } });
  });

  it('ignores the day field while the environment sets the day', () => {
    expect(capFormChanged(form({ monthStartDay: '2' }), { ...tb, month_start_day_source: 'env' })).toBe(false);
  });
});
