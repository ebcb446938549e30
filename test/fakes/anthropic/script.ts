/**
 * The script a {@link FakeAnthropic} plays: one step per `POST /v1/messages` call, in order.
 * A step is a reply, an API error, or a function that picks the step from the request the
 * client just sent (so a test can answer based on the last tool_result it got).
 */
import { randomBytes } from 'node:crypto';
import type { RecordedRequest, WireBlock } from './wire.ts';

/** A text block the fake answers with. */
export interface FakeTextBlock {
  type: 'text';
  text: string;
}

/** A tool call the fake answers with. `input` should be a JSON object, as the real model sends. */
export interface FakeToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** A content block of a scripted reply. */
export type FakeBlock = FakeTextBlock | FakeToolUseBlock;

/** Stop reasons the real API sends. */
export type FakeStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal';

/** Token counts a step may pin; anything left out is estimated from the request and reply. */
export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** A successful model reply. */
export interface ReplyStep {
  content: FakeBlock[];
  stop_reason: FakeStopReason;
  usage?: Partial<FakeUsage>;
  /** Wait this long before answering (cut short if the client goes away). */
  delayMs?: number;
}

/** An API failure, sent with the real error JSON shape and headers. */
export interface ErrorStep {
  error: {
    status: number;
    /** Error type, e.g. `overloaded_error`; defaults from the status. */
    type?: string;
    message?: string;
    /** Sent as `retry-after` (seconds). */
    retryAfterSeconds?: number;
    /** Sent as `retry-after-ms`. */
    retryAfterMs?: number;
    /** Sent as `x-should-retry`; defaults to true for 408, 409, 429 and 5xx, false otherwise. */
    shouldRetry?: boolean;
  };
  /**
   * For streaming requests only: answer 200, start the message, then send `event: error`,
   * the way the real API reports overload in the middle of a stream.
   */
  inStream?: boolean;
  delayMs?: number;
}

/** Decide the step from what the client sent; `index` is this call's position in the script. */
export type StepFunction = (request: RecordedRequest, index: number) => ScriptStep | Promise<ScriptStep>;

/** One entry of a fake's script. */
export type ScriptStep = ReplyStep | ErrorStep | StepFunction;

/** Error types the real API uses for each status. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request.',
  authentication_error: 'invalid x-api-key',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit.',
  api_error: 'Internal server error',
  timeout_error: 'Request timeout',
  overloaded_error: 'Overloaded',
};

/** The real API's error type for an HTTP status (`api_error` for unknown 5xx). */
export function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** The default message for an error type. */
export function errorMessageFor(type: string): string {
  return ERROR_MESSAGES[type] ?? 'Error.';
}

/** A text block. */
export function text(value: string): FakeTextBlock {
  return { type: 'text', text: value };
}

/**
 * A tool call. Without `id` a fresh `toolu_…` id is made, unique across the process, because
 * the real API rejects a history with duplicate tool_use ids.
 */
export function toolUse(name: string, input: Record<string, unknown> = {}, id?: string): FakeToolUseBlock {
  return { type: 'tool_use', id: id ?? `toolu_${randomBytes(9).toString('base64url').replace(/[^a-zA-Z0-9]/g, 'x')}`, name, input };
}

function toBlocks(blocks: Array<FakeBlock | string>): FakeBlock[] {
  return blocks.map((b) => (typeof b === 'string' ? text(b) : b));
}

/** A reply; strings become text blocks. stop_reason is `tool_use` if any block is a tool call, else `end_turn`. */
export function reply(...blocks: Array<FakeBlock | string>): ReplyStep {
  const content = toBlocks(blocks);
  return { content, stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn' };
}

/** A reply cut off by `max_tokens`, as the real API answers when the output budget runs out. */
export function maxTokensCut(...blocks: Array<FakeBlock | string>): ReplyStep {
  return { content: toBlocks(blocks), stop_reason: 'max_tokens' };
}

/** An API error step, e.g. `apiError(529)` or `apiError(429, { retryAfterSeconds: 0 })`. */
export function apiError(status: number, options: Omit<ErrorStep['error'], 'status'> & { inStream?: boolean } = {}): ErrorStep {
  const { inStream, ...error } = options;
  return inStream === undefined ? { error: { status, ...error } } : { error: { status, ...error }, inStream };
}

/** The same step, answered only after `ms` milliseconds. */
export function delayed<S extends ReplyStep | ErrorStep>(ms: number, step: S): S {
  return { ...step, delayMs: ms };
}

/** True when the step is an error step. */
export function isErrorStep(step: ReplyStep | ErrorStep): step is ErrorStep {
  return 'error' in step;
}

/** The tool_result blocks of the last message the client sent (empty if it ended with text). */
export function lastToolResults(request: RecordedRequest): WireBlock[] {
  const last = request.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter((b) => b.type === 'tool_result');
}

/** The text of a tool_result block, whether its content is a string or text blocks. */
export function toolResultText(block: WireBlock): string {
  if (typeof block.content === 'string') return block.content;
  if (Array.isArray(block.content)) {
    return block.content.map((c: unknown) => (c && typeof c === 'object' && 'text' in c ? String((c as { text: unknown }).text) : '')).join('');
  }
  return '';
}
