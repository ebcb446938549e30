/**
 * Turns whatever the SDK threw into a {@link ModelError} whose message a person can act on in
 * chat or Slack: what failed, in plain words, and what to do about it. SDK error classes stay
 * inside `llm/`; the engine only ever sees `ModelError`.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { ModelError, errorMessage } from '../errors.ts';
import { isConnectionFailure, shouldRetry } from './retry-policy.ts';
import { redactThenCut } from '../security/redact-then-cut.ts';

/** What the caller knows about the failed call, for the message. */
export interface ModelErrorContext {
  /** How many attempts were made, retries included. */
  attempts?: number;
  /** Where the client sent the request. */
  baseURL?: string;
  /** The configured model name. */
  model?: string;
  /** The per-attempt time limit. */
  timeoutMs?: number;
  /**
   * Redacts the API's own text before it is cut to a sentence-sized piece (a cut first could
   * leave half of an echoed secret). Defaults to no redaction.
   */
  redact?: (text: string) => string;
}

/** HTTP status the API means by each error type, for errors that arrive mid-stream without one. */
const STATUS_BY_TYPE: Record<string, number> = { rate_limit_error: 429, api_error: 500, overloaded_error: 529, timeout_error: 504 };

function gaveUp(context: ModelErrorContext): string {
  const n = context.attempts ?? 1;
  return `gave up after ${n} attempt${n === 1 ? '' : 's'}`;
}

/** The API's own explanation, trimmed to a sentence-sized piece. */
function apiText(err: APIError, context: ModelErrorContext): string {
  const cut = redactThenCut(err.apiMessage ?? err.message, API_TEXT_MAX, context.redact ?? ((t) => t));
  return cut.isCut ? `${cut.text}…` : cut.text;
}

/** How much of the API's explanation a message keeps. */
const API_TEXT_MAX = 500;

function describeApiError(err: APIError, context: ModelErrorContext): { message: string; code: string } {
  const status = err.status ?? (err.type ? STATUS_BY_TYPE[err.type] : undefined);
  const http = err.status !== undefined ? `HTTP ${err.status}` : `${err.type ?? 'error'} during the answer`;
  if (status === 401) return { code: 'model_auth_failed', message: `The model API rejected the API key (${http}). Check ANTHROPIC_API_KEY in .env.` };
  if (status === 403) {
    return { code: 'model_forbidden', message: `The model API refused access with this API key (${http}): ${apiText(err, context)}. Check the key's workspace and permissions.` };
  }
  if (status === 402) {
    return { code: 'model_billing', message: `The model API refused the request for billing reasons (${http}): ${apiText(err, context)}. Check the Anthropic account's billing.` };
  }
  if (status === 404) {
    const model = context.model ? ` (now "${context.model}")` : '';
    return { code: 'model_not_found', message: `The model API could not find what was asked for (${http}): ${apiText(err, context)}. Check llm.model in config.yaml${model}.` };
  }
  if (status === 413) {
    return { code: 'model_request_too_large', message: `The request was too large for the model API (${http}): ${apiText(err, context)}. Start a new thread to begin with a shorter history.` };
  }
  if (status === 429) return { code: 'model_rate_limited', message: `The model API is rate limiting us (${http}); ${gaveUp(context)}. Try again in a minute.` };
  if (status === 529 || err.type === 'overloaded_error') {
    return { code: 'model_overloaded', message: `The model API is overloaded (${http}); ${gaveUp(context)}. Try again in a minute.` };
  }
  if (status !== undefined && status >= 500) {
    return { code: 'model_unavailable', message: `The model API failed (${http}); ${gaveUp(context)}. Try again in a minute.` };
  }
  if (status !== undefined && status >= 400) return { code: 'model_request_rejected', message: `The model API rejected the request (${http}): ${apiText(err, context)}` };
  return { code: 'model_error', message: `The model API failed: ${apiText(err, context)}` };
}

function causeCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return ` (${code})`;
  }
  return '';
}

/**
 * Map anything a model call threw to a {@link ModelError}.
 * @param err the failure (SDK error, connection error, or anything else)
 * @param context attempts made and settings, named in the message
 * @returns a ModelError with `status`, `isRetryable`, a stable `code` and the original as `cause`
 */
export function toModelError(err: unknown, context: ModelErrorContext = {}): ModelError {
  if (err instanceof ModelError) return err;
  const isRetryable = shouldRetry(err);
  if (err instanceof APIUserAbortError) {
    return new ModelError('The model call was cancelled.', { isRetryable: false, code: 'model_cancelled', cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) {
    const limit = context.timeoutMs !== undefined ? ` within ${Math.round(context.timeoutMs / 1000)} s` : ' in time';
    return new ModelError(`The model API did not answer${limit}; ${gaveUp(context)}. Try again, or raise llm.anthropic.timeout_seconds.`, {
      isRetryable,
      code: 'model_timeout',
      cause: err,
    });
  }
  if (err instanceof APIConnectionError || (!(err instanceof APIError) && isConnectionFailure(err))) {
    const where = context.baseURL ? ` at ${context.baseURL}` : '';
    return new ModelError(`Could not reach the model API${where}${causeCode(err)}; ${gaveUp(context)}. Check the network and llm.anthropic.base_url.`, {
      isRetryable,
      code: 'model_unreachable',
      cause: err,
    });
  }
  if (err instanceof APIError) {
    const { message, code } = describeApiError(err, context);
    return new ModelError(message, { status: err.status, isRetryable, code, cause: err });
  }
  return new ModelError(`The model API sent an answer mithai could not read: ${errorMessage(err)}`, { isRetryable, code: 'model_bad_response', cause: err });
}

