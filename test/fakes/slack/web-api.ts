/**
 * The Web API front door: `POST /api/<method>` (GET with a query string also works, as on
 * Slack). Decodes form-urlencoded bodies (JSON-valued arguments such as `blocks` arrive as JSON
 * strings and are parsed) and JSON bodies, authenticates the token, applies armed rate limits,
 * dispatches to a method handler, and records every call. Answers are HTTP 200 with
 * `{ ok: true, … }` or `{ ok: false, error }`, or HTTP 429 + Retry-After when rate limited.
 * An armed fault ({@link Fault}) answers instead: a platform error, an HTTP status, a reset
 * connection or no answer at all, optionally after the call was carried out (a lost answer).
 *
 * Not modelled: multipart bodies (file uploads), scopes (`missing_scope`), per-tier automatic
 * rate limits, the `warning`/`response_metadata.warnings` fields.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SlackState } from './state.ts';
import type { Fault, JsonObject } from './types.ts';

/** Which token a method accepts. */
export type TokenKind = 'bot' | 'app';

/** What a method handler gets: decoded arguments (without `token`) and the shared state. */
export interface MethodContext {
  state: SlackState;
  args: JsonObject;
  token: string;
}

/** A Web API method: returns the JSON body (`ok: true` or `ok: false` + `error`). */
export interface MethodHandler {
  token: TokenKind;
  handle(ctx: MethodContext): JsonObject;
}

/** Arguments Slack expects as JSON-encoded strings in a form body. */
const JSON_ARGS = new Set(['blocks', 'attachments', 'view', 'metadata']);

/** Errors that mean "the app sent something Slack refuses" and are kept in `validationErrors`. */
const VALIDATION_ERRORS = new Set(['msg_too_long', 'no_text', 'invalid_blocks', 'invalid_blocks_format', 'invalid_arguments', 'invalid_metadata_format']);

/** Read a request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Build an `ok: false` body; `messages` become `response_metadata.messages` as Slack sends them. */
export function apiError(error: string, messages: string[] = []): JsonObject {
  if (messages.length === 0) return { ok: false, error };
  return {
    ok: false,
    error,
    errors: messages.map((m) => m.replace(/^\[ERROR\] /, '')),
    response_metadata: { messages },
  };
}

function sendJson(res: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

interface DecodedRequest {
  args: JsonObject;
  token: string | undefined;
  /** Set when the body could not be read at all. */
  error?: string;
}

/** Decode arguments and token the way Slack does for each content type. */
function decode(req: IncomingMessage, url: URL, raw: string): DecodedRequest {
  const args: JsonObject = {};
  const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const form = new URLSearchParams(url.search);
  if (raw.length > 0 && type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { args, token: header, error: 'invalid_json' };
      Object.assign(args, parsed);
    } catch {
      return { args, token: header, error: 'invalid_json' };
    }
    // JSON bodies must carry the token in the Authorization header; a body `token` is ignored.
    delete args.token;
    return { args, token: header };
  }
  if (raw.length > 0 && type !== 'application/x-www-form-urlencoded') return { args, token: header, error: 'invalid_post_type' };
  for (const [key, value] of new URLSearchParams(raw)) form.append(key, value);
  for (const [key, value] of form) {
    if (JSON_ARGS.has(key)) {
      try {
        args[key] = JSON.parse(value);
      } catch {
        args[key] = value; // left as a string: the handler answers invalid_blocks_format / invalid_arguments
      }
    } else args[key] = value;
  }
  const token = header ?? (typeof args.token === 'string' ? args.token : undefined);
  delete args.token;
  return { args, token };
}

/** Check the token against the kind the method accepts; Slack's error code or undefined. */
function authError(state: SlackState, kind: TokenKind, token: string | undefined): string | undefined {
  if (token === undefined || token === '') return 'not_authed';
  const { botToken, appToken } = state.config;
  if (token !== botToken && token !== appToken) return 'invalid_auth';
  if ((kind === 'bot' && token !== botToken) || (kind === 'app' && token !== appToken)) return 'not_allowed_token_type';
  return undefined;
}

/**
 * Serve one `/api/<method>` request: decode, authenticate, rate-limit, dispatch, record.
 * @param methods the method table (method name → handler)
 */
export async function handleApiRequest(
  state: SlackState,
  methods: ReadonlyMap<string, MethodHandler>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = decodeURIComponent(url.pathname.replace(/^\/api\//, ''));
  const decoded = decode(req, url, await readBody(req));
  const { args, token } = decoded;
  const answer = (status: number, body: JsonObject, headers?: Record<string, string>): void => {
    state.recordCall({ method, args, token, status, response: body });
    if (body.ok === false && VALIDATION_ERRORS.has(String(body.error))) {
      const metadata = body.response_metadata as { messages?: string[] } | undefined;
      state.validationErrors.push({ method, error: String(body.error), messages: metadata?.messages ?? [], args });
    }
    sendJson(res, status, body, headers);
  };

  const handler = methods.get(method);
  if (!handler) return answer(200, apiError('unknown_method'));
  if (decoded.error) return answer(200, apiError(decoded.error));
  let fault = state.takeFault(method);
  if (fault && 'answerAfterMs' in fault && !fault.carriedOut) {
    // Late before it is handled: the call takes effect when its answer goes.
    const lateMs = fault.answerAfterMs;
    await new Promise((resolve) => setTimeout(resolve, lateMs));
    fault = undefined;
  }
  if (fault && !fault.carriedOut) return playFault(state, fault, { method, args, token }, res, {});
  const retryAfter = state.takeRateLimit(method);
  if (retryAfter !== undefined) return answer(429, apiError('ratelimited'), { 'retry-after': String(retryAfter) });
  const denied = authError(state, handler.token, token);
  if (denied) return answer(200, apiError(denied));
  let body: JsonObject;
  try {
    body = handler.handle({ state, args, token: token as string });
  } catch (error) {
    body = apiError('fatal_error', [`[ERROR] fake-slack: ${error instanceof Error ? error.message : String(error)}`]);
  }
  if (fault) return playFault(state, fault, { method, args, token }, res, body);
  answer(200, body);
}

/**
 * Answer with an armed fault instead of the method's answer, and record it. `handled` is what
 * the method answered when the call was carried out first (`{}` when it was not).
 */
function playFault(
  state: SlackState,
  fault: Fault,
  call: { method: string; args: JsonObject; token: string | undefined },
  res: ServerResponse,
  handled: JsonObject,
): void {
  const suffix = fault.carriedOut ? '+carried_out' : '';
  if ('error' in fault) {
    state.recordCall({ ...call, status: 200, response: fault.carriedOut ? handled : apiError(fault.error), fault: `error:${fault.error}${suffix}` });
    return sendJson(res, 200, apiError(fault.error));
  }
  if ('status' in fault) {
    state.recordCall({ ...call, status: fault.status, response: handled, fault: `status:${fault.status}${suffix}` });
    res.writeHead(fault.status, { 'content-type': 'text/plain' });
    res.end('fake-slack: injected failure');
    return;
  }
  if ('answerAfterMs' in fault) {
    // Carried out at once (see handleApiRequest for the other case); only the answer is late.
    setTimeout(() => {
      state.recordCall({ ...call, status: 200, response: handled, fault: `late:${fault.answerAfterMs}${suffix}` });
      sendJson(res, 200, handled);
    }, fault.answerAfterMs);
    return;
  }
  if ('reset' in fault) {
    state.recordCall({ ...call, status: 0, response: handled, fault: `reset${suffix}` });
    res.socket?.destroy();
    return;
  }
  // A hang: leave the response open; FakeSlack.stop() closes every connection.
  state.recordCall({ ...call, status: 0, response: handled, fault: `hang${suffix}` });
}
