/**
 * The {@link Model} backed by the Anthropic Messages API.
 *
 * Every call streams (`messages.stream().finalMessage()`), so a large `max_tokens` never trips
 * the SDK's "streaming is required" guard and a long answer is not cut by an idle socket.
 * Retries are ours, not the SDK's: one policy (retry-policy.ts), logged, and counted in the
 * error the user sees.
 *
 * @example
 * const model = new AnthropicModel({ apiKey, model: 'claude-sonnet-4-6', maxRetries: 3, timeoutMs: 600_000, logger });
 * const response = await model.complete({ system: ['You are…'], messages, tools, maxTokens: 4096 }, signal);
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic, { APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import type { Logger } from 'pino';
import { ModelError } from '../errors.ts';
import type { Model, ModelRequest, ModelResponse } from './types.ts';
import type { AnthropicParams } from './anthropic-params.ts';
import { fromAnthropicMessage, toAnthropicParams } from './anthropic-params.ts';
import { retryDelayMs, shouldRetry } from './retry-policy.ts';
import { toModelError } from './to-model-error.ts';

/** The public API, used when no `baseURL` is configured. */
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** First backoff step between retries when the API sends no `retry-after`. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;

/** Settings for {@link AnthropicModel}. */
export interface AnthropicModelOptions {
  apiKey: string;
  /** API root; the public API when undefined. */
  baseURL?: string | undefined;
  /** Model name sent with every request. */
  model: string;
  /** Retries after the first attempt (0 = try once). */
  maxRetries: number;
  /** Time limit for one attempt, from sending the request to the end of the streamed answer. */
  timeoutMs: number;
  logger: Logger;
  /** First backoff step; defaults to {@link DEFAULT_RETRY_BASE_DELAY_MS}. */
  retryBaseDelayMs?: number;
  /** A `fetch` to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
  /** Redacts known secrets from the API's error text before it is cut into an error message. */
  redact?: (text: string) => string;
}

/** Replace every occurrence of `secret` in `text`; a belt-and-braces guard for logs and errors. */
function scrub(text: string, secret: string): string {
  return secret.length >= 8 ? text.split(secret).join('[redacted]') : text;
}

/** The Anthropic implementation of {@link Model}. */
export class AnthropicModel implements Model {
  readonly #client: Anthropic;
  readonly #options: AnthropicModelOptions;
  readonly #baseURL: string;
  readonly #log: Logger;

  /** Build the client; nothing is sent until {@link complete}. */
  constructor(options: AnthropicModelOptions) {
    this.#options = options;
    this.#baseURL = options.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL;
    this.#log = options.logger;
    const sdkLog = options.logger.child({ component: 'anthropic-sdk' });
    this.#client = new Anthropic({
      // Both always passed: a key in code stops the SDK reading ANTHROPIC_* variables and
      // profiles, and an explicit baseURL beats an ANTHROPIC_BASE_URL left in a developer's shell.
      apiKey: options.apiKey,
      baseURL: this.#baseURL,
      maxRetries: 0,
      timeout: options.timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      // The SDK's own warnings go to our logger (not the console), at a level ANTHROPIC_LOG cannot raise.
      logLevel: 'warn',
      logger: {
        error: (msg: string) => sdkLog.error({ detail: scrub(msg, options.apiKey) }, 'model.sdk_logged'),
        warn: (msg: string) => sdkLog.warn({ detail: scrub(msg, options.apiKey) }, 'model.sdk_logged'),
        info: (msg: string) => sdkLog.info({ detail: scrub(msg, options.apiKey) }, 'model.sdk_logged'),
        debug: (msg: string) => sdkLog.debug({ detail: scrub(msg, options.apiKey) }, 'model.sdk_logged'),
      },
    });
  }

  /**
   * Send one request, retrying transient failures up to `maxRetries` times.
   * @throws ModelError when the API fails for good, the call is cancelled through `signal`
   *   (code `model_cancelled`), or the answer cannot be read.
   */
  async complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse> {
    const params = toAnthropicParams(request, this.#options.model);
    const maxAttempts = this.#options.maxRetries + 1;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw this.#cancelled();
      const started = Date.now();
      try {
        const response = fromAnthropicMessage(await this.#attempt(params, signal));
        this.#log.debug({ model: params.model, attempt, ms: Date.now() - started, stop_reason: response.stopReason, usage: { input_tokens: response.usage.inputTokens, output_tokens: response.usage.outputTokens, cache_read_tokens: response.usage.cacheReadTokens, cache_write_tokens: response.usage.cacheWriteTokens } }, 'model.call_finished');
        return response;
      } catch (err) {
        if (signal?.aborted) throw this.#cancelled(err);
        const status = err instanceof APIError ? err.status : undefined;
        const requestId = err instanceof APIError ? err.requestID : undefined;
        if (attempt >= maxAttempts || !shouldRetry(err)) {
          const failure = this.#toModelError(err, attempt);
          this.#log.warn({ status, request_id: requestId, attempt, code: failure.code, retryable: failure.isRetryable }, 'model.call_failed');
          throw failure;
        }
        const headers = err instanceof APIError ? err.headers : undefined;
        const delayMs = retryDelayMs(attempt, headers, this.#options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS);
        this.#log.warn(
          { status, error_type: err instanceof APIError ? err.type : undefined, request_id: requestId, attempt, max_attempts: maxAttempts, retry_in_ms: delayMs },
          'model.call_retried',
        );
        try {
          await sleep(delayMs, undefined, signal ? { signal } : undefined);
        } catch (sleepErr) {
          throw this.#cancelled(sleepErr);
        }
      }
    }
  }

  /**
   * One streamed call, with a deadline that covers the whole answer, not only its headers. One
   * controller for both the deadline and the caller's signal (AbortSignal.any costs a
   * weak-reference registration per call, paid again in every garbage collection).
   */
  async #attempt(params: AnthropicParams, signal: AbortSignal | undefined) {
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(), this.#options.timeoutMs);
    const onCancel = (): void => attempt.abort(signal?.reason);
    if (signal?.aborted) onCancel();
    else signal?.addEventListener('abort', onCancel, { once: true });
    try {
      return await this.#client.messages.stream(params, { signal: attempt.signal }).finalMessage();
    } catch (err) {
      // Aborted, and not by the caller: our deadline fired. Report a timeout, which is worth a retry.
      if (attempt.signal.aborted && !signal?.aborted) throw new APIConnectionTimeoutError();
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
    }
  }

  #toModelError(err: unknown, attempts: number): ModelError {
    const { apiKey, redact } = this.#options;
    const mapped = toModelError(err, {
      attempts,
      baseURL: this.#baseURL,
      model: this.#options.model,
      timeoutMs: this.#options.timeoutMs,
      redact: (text) => (redact ?? ((t: string) => t))(scrub(text, apiKey)),
    });
    const message = scrub(mapped.message, this.#options.apiKey);
    if (message === mapped.message) return mapped;
    return new ModelError(message, { status: mapped.status, isRetryable: mapped.isRetryable, code: mapped.code, cause: mapped.cause });
  }

  #cancelled(cause?: unknown): ModelError {
    return new ModelError('The model call was cancelled.', { isRetryable: false, code: 'model_cancelled', cause });
  }
}
