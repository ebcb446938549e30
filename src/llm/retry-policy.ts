/**
 * The one place that decides whether a failed model call is worth repeating and how long to
 * wait first. The SDK's own retries are switched off (`maxRetries: 0`) so that every retry
 * goes through here, is logged, and counts towards the attempts named in the error message.
 */
import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';

/** Longest wait we accept from a `retry-after` / `retry-after-ms` header. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Longest computed backoff between attempts. */
export const MAX_BACKOFF_MS = 8_000;

/** Anything with `get(name)`, such as a fetch `Headers`. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** Error types the API sends in the body (or in a mid-stream `event: error`) for transient failures. */
const TRANSIENT_ERROR_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** Socket-level failure codes that mean "the connection broke", not "the request was wrong". */
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * True when repeating the same request may succeed: rate limits (429), request and lock
 * timeouts (408, 409), server errors (5xx, 529 overloaded), transient mid-stream errors, and
 * connection failures or timeouts. An `x-should-retry: true|false` header from the API wins
 * over the status. A cancelled call is never retried.
 */
export function shouldRetry(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError) {
    const header = error.headers?.get('x-should-retry');
    if (header === 'true') return true;
    if (header === 'false') return false;
    const status = error.status;
    if (status === undefined) return error.type !== null && TRANSIENT_ERROR_TYPES.has(error.type);
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }
  return isConnectionFailure(error);
}

/**
 * True when the error, or anything in its `cause` chain, is a broken connection (for example a
 * stream cut off mid-answer, which the SDK reports as a plain error wrapping undici's).
 */
export function isConnectionFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /^(terminated|other side closed|socket hang up)$/i.test(message)) return true;
  }
  return false;
}

/**
 * How long to wait before the next attempt.
 *
 * A server hint wins: `retry-after-ms`, else `retry-after` (seconds or an HTTP date), capped at
 * {@link MAX_RETRY_AFTER_MS}; a hint of 0 means "now". Without a usable hint, exponential
 * backoff `baseDelayMs * 2^(attempt-1)`, capped at {@link MAX_BACKOFF_MS}, minus up to 25%
 * jitter so that many clients failing together do not come back together.
 *
 * @param attempt 1-based number of the attempt that just failed
 * @param headers response headers of the failure, if it had any
 * @param baseDelayMs the first backoff step
 * @param random source of jitter in [0, 1); injectable for tests
 * @param now current time in ms, for HTTP-date hints; injectable for tests
 * @returns milliseconds to wait, never negative
 */
export function retryDelayMs(
  attempt: number,
  headers: HeaderReader | undefined,
  baseDelayMs: number,
  random: () => number = Math.random,
  now: number = Date.now(),
): number {
  const hinted = retryAfterMs(headers, now);
  if (hinted !== undefined) return Math.min(hinted, MAX_RETRY_AFTER_MS);
  const backoff = Math.min(baseDelayMs * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  return Math.max(0, Math.round(backoff * (1 - random() * 0.25)));
}

/** The server's requested wait in ms, or undefined when it sent none we can use. */
function retryAfterMs(headers: HeaderReader | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
