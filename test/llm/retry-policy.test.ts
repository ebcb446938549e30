import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, AnthropicError } from '@anthropic-ai/sdk';
import { MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, retryDelayMs, shouldRetry } from '../../src/llm/retry-policy.ts';

function apiError(status: number | undefined, headers: Record<string, string> = {}, type?: string): APIError {
  const body = type ? { type: 'error', error: { type, message: 'x' } } : undefined;
  return status === undefined ? new APIError(undefined, body, undefined, new Headers(headers), type as never) : APIError.generate(status, body, undefined, new Headers(headers));
}

describe('shouldRetry', () => {
  const retryable: Array<[string, unknown]> = [
    ['a 429 rate limit', apiError(429)],
    ['a 500', apiError(500)],
    ['a 503', apiError(503)],
    ['a 529 overload', apiError(529)],
    ['a 408 request timeout', apiError(408)],
    ['a 409 lock timeout', apiError(409)],
    ['a 400 the server marks retryable', apiError(400, { 'x-should-retry': 'true' })],
    ['an overload reported mid-stream (no status)', apiError(undefined, {}, 'overloaded_error')],
    ['a connection error', new APIConnectionError({ message: 'Connection error.' })],
    ['a connection timeout', new APIConnectionTimeoutError()],
    ['a stream cut off mid-answer', new AnthropicError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })],
  ];
  for (const [what, err] of retryable) test(`retries ${what}`, () => assert.equal(shouldRetry(err), true));

  const final: Array<[string, unknown]> = [
    ['a 400 invalid request', apiError(400)],
    ['a 401 bad key', apiError(401)],
    ['a 403', apiError(403)],
    ['a 404', apiError(404)],
    ['a 413', apiError(413)],
    ['a 529 the server marks not retryable', apiError(529, { 'x-should-retry': 'false' })],
    ['an invalid request reported mid-stream', apiError(undefined, {}, 'invalid_request_error')],
    ['a cancelled call', new APIUserAbortError()],
    ['an unrelated bug', new TypeError('x is not a function')],
    ['a thrown string', 'boom'],
  ];
  for (const [what, err] of final) test(`does not retry ${what}`, () => assert.equal(shouldRetry(err), false));
});

describe('retryDelayMs', () => {
  const noJitter = () => 0;
  const headers = (h: Record<string, string>) => new Headers(h);

  test('backs off exponentially from the base delay when the server gives no hint', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, undefined, 500, noJitter)),
      [500, 1000, 2000, 4000],
    );
  });

  test('caps the computed backoff', () => {
    assert.equal(retryDelayMs(20, undefined, 500, noJitter), MAX_BACKOFF_MS);
  });

  test('takes off at most a quarter as jitter', () => {
    const delay = retryDelayMs(1, undefined, 1000, () => 0.9999);
    assert.ok(delay >= 750 && delay <= 1000, String(delay));
  });

  test('honours retry-after-ms before retry-after', () => {
    assert.equal(retryDelayMs(1, headers({ 'retry-after-ms': '250', 'retry-after': '9' }), 500, noJitter), 250);
  });

  test('honours retry-after in seconds, including 0 for "now"', () => {
    assert.equal(retryDelayMs(3, headers({ 'retry-after': '2' }), 500, noJitter), 2000);
    assert.equal(retryDelayMs(3, headers({ 'retry-after': '0' }), 500, noJitter), 0);
  });

  test('honours retry-after as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryDelayMs(1, headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), 500, noJitter, now), 5000);
  });

  test('caps a server hint at one minute', () => {
    assert.equal(retryDelayMs(1, headers({ 'retry-after': '3600' }), 500, noJitter), MAX_RETRY_AFTER_MS);
  });

  test('falls back to backoff when the hint is garbage or negative', () => {
    assert.equal(retryDelayMs(2, headers({ 'retry-after': 'soon' }), 500, noJitter), 1000);
    assert.equal(retryDelayMs(2, headers({ 'retry-after-ms': '-5' }), 500, noJitter), 1000);
  });
});
