import { describe, expect, it } from 'vitest';
import { ApiRequestError } from './client';
import { settle } from './messages';

describe('settle', () => {
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('hands on the answer, or the failure in words, and ignores an aborted request', async () => {
    const got: string[] = [];
    settle(Promise.resolve('answer'), (a) => got.push(`ok ${a}`), (m) => got.push(`error ${m}`));
    settle(Promise.reject(new ApiRequestError({ kind: 'http', status: 409, error: { statusCode: 409, error: 'Conflict', code: 'HOSTS_OFF', message: 'per-host totals are off' } })), () => got.push('no'), (m) => got.push(`error ${m}`));
    settle(Promise.reject(new ApiRequestError({ kind: 'aborted' })), () => got.push('no'), (m) => got.push(`aborted ${m}`));
    await flush();
    expect(got[0]).toBe('ok answer');
    expect(got[1]).toMatch(/^error .*per-host totals are off/);
    expect(got).toHaveLength(2);
  });
});
