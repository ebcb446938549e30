/**
 * Turns a scripted reply into what the real API sends: a full `Message` JSON object, or the
 * SSE event sequence `messages.stream()` rebuilds it from (message_start, content blocks with
 * text_delta / input_json_delta chunks, message_delta with usage, message_stop).
 */
import type { ServerResponse } from 'node:http';
import type { FakeBlock, FakeStopReason, FakeUsage } from './script.ts';

/** The `Message` object the real API returns. */
export interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: FakeBlock[];
  stop_reason: FakeStopReason;
  stop_sequence: null;
  usage: FakeUsage & { service_tier: string };
}

/** How long text and tool-input JSON chunks are in a stream; small, so clients really reassemble. */
const TEXT_CHUNK = 16;
const JSON_CHUNK = 8;

function chunks(value: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += size) out.push(value.slice(i, i + size));
  return out;
}

function event(res: ServerResponse, type: string, data: unknown): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Send the message as one JSON body. */
export function writeJsonMessage(res: ServerResponse, message: FakeMessage, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(message));
}

/** Open an SSE response and send `message_start` (content empty, stop_reason null). */
export function startStream(res: ServerResponse, message: FakeMessage, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  const { usage } = message;
  event(res, 'message_start', {
    type: 'message_start',
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
}

/** Send the whole message as an SSE stream and end the response. */
export function writeStreamedMessage(res: ServerResponse, message: FakeMessage, headers: Record<string, string>): void {
  startStream(res, message, headers);
  for (const [index, block] of message.content.entries()) {
    if (block.type === 'text') {
      event(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) event(res, 'ping', { type: 'ping' });
      for (const piece of chunks(block.text, TEXT_CHUNK)) {
        event(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      }
    } else {
      event(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      if (index === 0) event(res, 'ping', { type: 'ping' });
      for (const piece of chunks(JSON.stringify(block.input), JSON_CHUNK)) {
        event(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    event(res, 'content_block_stop', { type: 'content_block_stop', index });
  }
  const { usage } = message;
  // The SDK reads usage.output_tokens from message_delta, so usage must be present here.
  event(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
    },
  });
  event(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

/** Send `event: error` on an open stream and end it, as the API does for mid-stream overload. */
export function writeStreamError(res: ServerResponse, type: string, message: string): void {
  event(res, 'error', { type: 'error', error: { type, message } });
  res.end();
}
