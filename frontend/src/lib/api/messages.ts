/**
 * Every failure in words. The server's `message` is written for people, so it is shown when there is
 * one; these texts cover answers without one and the failures that never reached the server.
 */
import { ApiRequestError, type ApiFailure } from './client';

const CODE_TEXT: Record<string, string> = {
  UNKNOWN_INTERFACE: 'The server does not know one of these interfaces; it may have gone away. Reload the list and try again.',
  EMPTY_SELECTION: 'Select at least one interface to monitor.',
  TOO_MANY_POINTS: 'That window and grouping would need too many points. Choose a coarser grouping.',
  GROUPING_NOT_AVAILABLE: 'Minute-level data is not kept that long. Choose a grouping of an hour or more.',
  TOKEN_REQUIRED: 'Saving settings needs the admin token.',
  TOKEN_INVALID: 'The admin token was not accepted.',
  REMOTE_WRITE_FORBIDDEN: 'Changing settings from another machine needs NETPULSE_AUTH_TOKEN set on the server.',
  RATE_LIMITED: 'Too many requests in a short time. Wait a moment and try again.',
  INVALID_CAP: 'The server did not accept this data cap. Check the limit, the thresholds and the billing day.',
  MONTH_START_DAY_FROM_ENV: 'The billing day is set by NETPULSE_MONTH_START_DAY on the server; unset it to change the day here.',
  SYNC_NOT_CONFIGURED: 'Other devices are seen only through PostgreSQL sync, which this server does not have (NETPULSE_SYNC_URL).',
  SYNC_UNAVAILABLE: 'The sync database cannot answer right now; this device’s own figures are still available.',
  UNKNOWN_DEVICE: 'That device has never synced to the shared database. Choose another device.',
  CROSS_ORIGIN_WRITE_FORBIDDEN: 'The server refuses changes from this page’s address. Open the dashboard at the server’s own address, or list this one in NETPULSE_CORS_ORIGINS.',
};

const STATUS_TEXT: Record<number, string> = {
  400: 'The server did not accept the request.',
  404: 'The server does not offer this yet; is it an older version than the dashboard?',
  429: 'Too many requests in a short time. Wait a moment and try again.',
  500: 'The server ran into an internal error; its log has the details.',
};

export function describeFailure(failure: ApiFailure): string {
  switch (failure.kind) {
    case 'network':
      return 'Cannot reach the Net-Pulse server.';
    case 'aborted':
      return 'The request was cancelled.';
    case 'parse':
      return `The server sent an answer this dashboard does not understand (${failure.detail}). Reload the page; if it persists, the server and dashboard versions may differ.`;
    case 'auth':
    case 'http': {
      const error = failure.error;
      const message = error?.message.trim();
      if (message) return /[.!?]$/.test(message) ? message : `${message}.`;
      if (error && CODE_TEXT[error.code]) return CODE_TEXT[error.code]!;
      return STATUS_TEXT[failure.status] ?? `The server answered with HTTP ${failure.status}.`;
    }
  }
}

/** Words for anything a request can throw. */
export function describeError(cause: unknown): string {
  if (cause instanceof ApiRequestError) return describeFailure(cause.failure);
  if (cause instanceof Error && cause.message) return cause.message;
  return 'Something went wrong.';
}

/** The stable code of an API error, if there is one. */
export function errorCode(cause: unknown): string | null {
  if (cause instanceof ApiRequestError && (cause.failure.kind === 'http' || cause.failure.kind === 'auth')) {
    return cause.failure.error?.code ?? null;
  }
  return null;
}

export function isAborted(cause: unknown): boolean {
  return cause instanceof ApiRequestError && cause.failure.kind === 'aborted';
}

export function isNetworkFailure(cause: unknown): boolean {
  return cause instanceof ApiRequestError && cause.failure.kind === 'network';
}

/**
 * Hands a request's answer to `onAnswer`, or its failure in words to `onError`; an aborted request (a newer
 * one replaced it, or its view went away) is neither.
 */
export function settle<T>(request: Promise<T>, onAnswer: (answer: T) => void, onError: (message: string) => void): void {
  request.then(onAnswer).catch((cause: unknown) => {
    if (!isAborted(cause)) onError(describeError(cause));
  });
}
