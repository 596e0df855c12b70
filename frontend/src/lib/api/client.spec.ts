import { describe, expect, it, vi } from 'vitest';
import { ApiRequestError, createApiClient, livePath, trafficPath, usagePath, writeWithToken } from './client';
import { describeError, describeFailure, errorCode } from './messages';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function fakeFetch(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    return handler(url, init ?? {});
  });
  return { fetch: fetchFn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('paths', () => {
  it('trafficPath leaves out the interface for the total', () => {
    expect(trafficPath({ windowHours: 24, groupMinutes: 5, interfaceName: null })).toBe(
      '/api/traffic?time_window_hours=24&group_minutes=5',
    );
  });

  it('trafficPath encodes an interface name', () => {
    expect(trafficPath({ windowHours: 1, groupMinutes: 1, interfaceName: 'br-lan 0' })).toBe(
      '/api/traffic?time_window_hours=1&group_minutes=1&interface=br-lan+0',
    );
  });

  it('livePath asks for all monitored interfaces when none is chosen', () => {
    expect(livePath(null)).toBe('/api/live');
    expect(livePath('eth0')).toBe('/api/live?interface=eth0');
    expect(livePath('all')).toBe('/api/live?all=true');
  });
});

describe('createApiClient', () => {
  it('returns parsed data from a good answer', async () => {
    const { fetch } = fakeFetch(() => json(200, ['eth0', 'wlan0']));
    const client = createApiClient({ fetch, getToken: () => null });
    await expect(client.getMonitored()).resolves.toEqual(['eth0', 'wlan0']);
  });

  it('turns a badly shaped answer into a parse failure', async () => {
    const { fetch } = fakeFetch(() => json(200, { names: ['eth0'] }));
    const client = createApiClient({ fetch, getToken: () => null });
    const error = await client.getMonitored().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect((error as ApiRequestError).failure.kind).toBe('parse');
  });

  it('reports a refused connection as unreachable', async () => {
    const { fetch } = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const reachability: boolean[] = [];
    const client = createApiClient({ fetch, getToken: () => null, onReachability: (r) => reachability.push(r) });
    const error = await client.getInterfaces().catch((e: unknown) => e);
    expect((error as ApiRequestError).failure).toEqual({ kind: 'network' });
    expect(reachability).toEqual([false]);
  });

  it('reports a proxy 502 page as unreachable', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>Bad Gateway</html>', { status: 502 }));
    const client = createApiClient({ fetch, getToken: () => null });
    const error = await client.getHealth().catch((e: unknown) => e);
    expect((error as ApiRequestError).failure.kind).toBe('network');
  });

  it('keeps the server error body for a 400', async () => {
    const body = { statusCode: 400, code: 'EMPTY_SELECTION', error: 'Bad Request', message: 'Select at least one interface' };
    const { fetch } = fakeFetch(() => json(400, body));
    const client = createApiClient({ fetch, getToken: () => null });
    const error = await client.saveMonitored([]).catch((e: unknown) => e);
    expect(errorCode(error)).toBe('EMPTY_SELECTION');
    expect(describeError(error)).toBe('Select at least one interface.');
  });

  it('sends the stored token on writes but not on reads', async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url.endsWith('collection-interval')
        ? json(200, { interval_seconds: 5, source: 'config', configured_seconds: 5, min_seconds: 1, max_seconds: 3600 })
        : json(200, ['eth0']),
    );
    const client = createApiClient({ fetch, getToken: () => 's3cret' });
    await client.getMonitored();
    await client.saveCollectionInterval(5);
    const readHeaders = calls[0]?.init.headers as Record<string, string>;
    const writeHeaders = calls[1]?.init.headers as Record<string, string>;
    expect(readHeaders.authorization).toBeUndefined();
    expect(writeHeaders.authorization).toBe('Bearer s3cret');
    expect(calls[1]?.init.method).toBe('PUT');
    expect(calls[1]?.init.body).toBe('{"interval_seconds":5}');
  });

  it('marks a 401 with a token code as an auth failure', async () => {
    const { fetch } = fakeFetch(() => json(401, { code: 'TOKEN_REQUIRED', message: 'A token is required' }));
    const client = createApiClient({ fetch, getToken: () => null });
    const error = await client.saveMonitored(['eth0']).catch((e: unknown) => e);
    expect((error as ApiRequestError).failure.kind).toBe('auth');
  });

  it('reports an aborted request as aborted, not unreachable', async () => {
    const controller = new AbortController();
    const { fetch } = fakeFetch(() => {
      controller.abort();
      throw new DOMException('aborted', 'AbortError');
    });
    const reachability: boolean[] = [];
    const client = createApiClient({ fetch, getToken: () => null, onReachability: (r) => reachability.push(r) });
    const error = await client.getInterfaces(controller.signal).catch((e: unknown) => e);
    expect((error as ApiRequestError).failure.kind).toBe('aborted');
    expect(reachability).toEqual([]);
  });
});

describe('writeWithToken', () => {
  it('asks for a token after a 401, stores it and retries with it', async () => {
    let token: string | null = null;
    const { fetch, calls } = fakeFetch((_url, init) => {
      const headers = init.headers as Record<string, string>;
      return headers.authorization === 'Bearer good'
        ? json(200, ['eth0'])
        : json(401, { code: 'TOKEN_REQUIRED', message: 'Token required' });
    });
    const client = createApiClient({ fetch, getToken: () => token });
    const askToken = vi.fn(async () => ' good ');
    const saved = await writeWithToken(() => client.saveMonitored(['eth0']), { get: () => token, set: (t) => (token = t) }, askToken);
    expect(saved).toEqual(['eth0']);
    expect(token).toBe('good');
    expect(askToken).toHaveBeenCalledTimes(1);
    expect(calls).toHaveLength(2);
  });

  it('gives up with the auth error when the person cancels', async () => {
    const { fetch } = fakeFetch(() => json(401, { code: 'TOKEN_INVALID', message: 'The token does not match' }));
    const client = createApiClient({ fetch, getToken: () => 'old' });
    const error = await writeWithToken(() => client.saveMonitored(['eth0']), { get: () => 'old', set: () => {} }, async () => null).catch(
      (e: unknown) => e,
    );
    expect(errorCode(error)).toBe('TOKEN_INVALID');
  });

  it('shows a remote-write refusal in words without asking for a token no server would accept', async () => {
    const message = 'Changes from other machines are refused while NETPULSE_AUTH_TOKEN is unset.';
    const { fetch } = fakeFetch(() => json(403, { code: 'REMOTE_WRITE_FORBIDDEN', message }));
    const client = createApiClient({ fetch, getToken: () => null });
    const askToken = vi.fn(async () => 'x');
    const error = await writeWithToken(() => client.saveMonitored(['eth0']), { get: () => null, set: () => {} }, askToken).catch(
      (e: unknown) => e,
    );
    expect(askToken).not.toHaveBeenCalled();
    expect(describeError(error)).toBe(message);
  });

  it('does not ask for a token on other errors', async () => {
    const { fetch } = fakeFetch(() => json(400, { code: 'UNKNOWN_INTERFACE', message: 'No interface eth9' }));
    const client = createApiClient({ fetch, getToken: () => null });
    const askToken = vi.fn(async () => 'x');
    await writeWithToken(() => client.saveMonitored(['eth9']), { get: () => null, set: () => {} }, askToken).catch(() => {});
    expect(askToken).not.toHaveBeenCalled();
  });
});

describe('describeFailure', () => {
  it('falls back to a sentence for a known code without a message', () => {
    expect(
      describeFailure({ kind: 'http', status: 400, error: { statusCode: 400, code: 'TOO_MANY_POINTS', error: '', message: '' } }),
    ).toMatch(/coarser grouping/);
  });

  it('falls back to the status when there is no error body', () => {
    expect(describeFailure({ kind: 'http', status: 418, error: null })).toBe('The server answered with HTTP 418.');
  });
});

describe('usage requests', () => {
  it('usagePath leaves out the defaults: the total and this device', () => {
    expect(usagePath({ period: 'day', interfaceName: null, device: 'local' })).toBe('/api/usage?period=day');
  });

  it('usagePath passes the interface, the device and the limit', () => {
    expect(usagePath({ period: 'month', interfaceName: 'eth0', device: 'all', limit: 12 })).toBe(
      '/api/usage?period=month&interface=eth0&device=all&limit=12',
    );
  });

  it('saveDataCap PUTs the body as JSON with the token', async () => {
    const answer = {
      limit_bytes: null,
      interface: null,
      direction: 'both',
      thresholds_percent: [80, 100],
      month_start_day: 15,
      month_start_day_source: 'config',
      timezone: 'UTC',
      units: 'decimal',
      webhook_configured: false,
      updated_at: null,
      status: null,
    };
    const { fetch, calls } = fakeFetch(() => json(200, answer));
    const client = createApiClient({ fetch, getToken: () => 'secret' });
    await expect(client.saveDataCap({ limit: '1 TB', month_start_day: 15 })).resolves.toMatchObject({ month_start_day: 15 });
    expect(calls[0]?.url).toBe('/api/config/data-cap');
    expect(calls[0]?.init.method).toBe('PUT');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ limit: '1 TB', month_start_day: 15 });
    expect((calls[0]?.init.headers as Record<string, string>).authorization).toBe('Bearer secret');
  });

  it('words the new error codes when the server sends no message', () => {
    for (const code of ['INVALID_CAP', 'MONTH_START_DAY_FROM_ENV', 'SYNC_NOT_CONFIGURED', 'SYNC_UNAVAILABLE', 'UNKNOWN_DEVICE', 'CROSS_ORIGIN_WRITE_FORBIDDEN']) {
      const text = describeFailure({ kind: 'http', status: 400, error: { statusCode: 400, code, error: 'Bad Request', message: '' } });
      expect(text, code).not.toMatch(/did not accept the request|HTTP 400/);
    }
  });
});
