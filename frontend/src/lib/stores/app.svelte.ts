/**
 * The app's shared wiring: one API client, and the connection state it feeds. When a request cannot
 * reach the server the banner shows and /api/health is retried (1 s, 2 s, 4 s … every 10 s); when the
 * server answers again `recoveries` goes up, and every view that watches it loads its data afresh.
 */
import type { ApiError, ApiInterface } from '$shared/api-types';
import { createApiClient, writeWithToken } from '../api/client';
import { retryDelayMs } from './retry-delay';
import { tokenStore } from './token';

export const connection = $state({
  reachable: true,
  /** When the next health check runs (ms since the epoch), while unreachable. */
  retryAtMs: 0,
  /** Goes up each time the server is back after being unreachable. */
  recoveries: 0,
});

let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function reportReachability(reachable: boolean): void {
  if (reachable) {
    attempt = 0;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (!connection.reachable) {
      connection.reachable = true;
      connection.recoveries += 1;
    }
    return;
  }
  if (connection.reachable) {
    connection.reachable = false;
    scheduleHealthCheck();
  }
}

function scheduleHealthCheck(delayMs = retryDelayMs(attempt)): void {
  clearTimeout(retryTimer);
  attempt += 1;
  connection.retryAtMs = Date.now() + delayMs;
  retryTimer = setTimeout(() => {
    api.getHealth().catch(() => {
      if (!connection.reachable) scheduleHealthCheck();
    });
  }, delayMs);
}

/** The "Retry now" button. */
export function retryNow(): void {
  if (!connection.reachable) scheduleHealthCheck(0);
}

export const api = createApiClient({
  fetch: (input, init) => fetch(input, init),
  getToken: () => tokenStore.get(),
  onReachability: reportReachability,
});

/**
 * The interface list is wanted by every page, first thing: its request starts while the app is still
 * mounting, and the first page to ask takes this answer instead of asking again.
 */
let preloadedInterfaces: Promise<ApiInterface[]> | null = api.getInterfaces();
preloadedInterfaces.catch(() => undefined);

export function loadInterfaces(signal?: AbortSignal): Promise<ApiInterface[]> {
  const preloaded = preloadedInterfaces;
  preloadedInterfaces = null;
  return preloaded ?? api.getInterfaces(signal);
}

/** The token dialog's state; `askToken` opens it and resolves with what was typed, or null on cancel. */
export const tokenPrompt = $state({
  open: false,
  code: '',
  message: '',
});

let resolvePrompt: ((token: string | null) => void) | null = null;

export function askToken(error: ApiError): Promise<string | null> {
  resolvePrompt?.(null);
  tokenPrompt.open = true;
  tokenPrompt.code = error.code;
  tokenPrompt.message = error.message;
  return new Promise((resolve) => {
    resolvePrompt = resolve;
  });
}

export function answerTokenPrompt(token: string | null): void {
  tokenPrompt.open = false;
  const resolve = resolvePrompt;
  resolvePrompt = null;
  resolve?.(token);
}

/** A write that asks for the admin token when the server wants one. */
export function write<T>(run: () => Promise<T>): Promise<T> {
  return writeWithToken(run, tokenStore, askToken);
}
