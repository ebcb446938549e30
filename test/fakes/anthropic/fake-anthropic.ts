/**
 * A local fake of the Anthropic Messages API (`POST /v1/messages`) on 127.0.0.1, for the real
 * `@anthropic-ai/sdk` to talk to through `baseURL`.
 *
 * What it models: API-key auth (`x-api-key` or `Authorization: Bearer`), the request checks
 * that matter for an agent loop (see validate-request.ts), scripted replies as JSON or SSE,
 * error responses with the real JSON shape and `retry-after` / `x-should-retry` headers, and
 * prompt caching of the tools + system prefix in the usage numbers.
 * What it leaves out: other endpoints, token limits, images, thinking, real rate limiting.
 *
 * @example
 * const fake = await FakeAnthropic.start([reply(toolUse('ops__status', { host: 'web-1' })), reply('All good.')]);
 * t.after(() => fake.stop());
 * const client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeMessage } from './message-writer.ts';
import { startStream, writeJsonMessage, writeStreamedMessage, writeStreamError } from './message-writer.ts';
import type { ErrorStep, FakeUsage, ReplyStep, ScriptStep } from './script.ts';
import { errorMessageFor, errorTypeFor, isErrorStep } from './script.ts';
import { validateRequest } from './validate-request.ts';
import type { RecordedRequest, WireRequest } from './wire.ts';
import { recordRequest } from './wire.ts';

/** The API key a fake accepts unless told otherwise. */
export const FAKE_API_KEY = 'sk-ant-fake-0000-test-key';

/** Options for {@link FakeAnthropic.start}. */
export interface FakeAnthropicOptions {
  /** The only key accepted; defaults to {@link FAKE_API_KEY}. */
  apiKey?: string;
}

/** A step function may hand back another function; stop following after this many. */
const MAX_STEP_INDIRECTION = 8;

/** A running fake Messages API. Start with {@link FakeAnthropic.start}; always `stop()` it. */
export class FakeAnthropic {
  /** Base URL to pass as the SDK's `baseURL`, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** The API key this fake accepts. */
  readonly apiKey: string;
  /** Every request received on any path, in arrival order, including rejected ones. */
  readonly requests: RecordedRequest[] = [];

  readonly #server: Server;
  readonly #script: ScriptStep[];
  #stepsTaken = 0;
  #responses = 0;
  readonly #cachedPrefixes = new Set<string>();
  readonly #pendingDelays = new Set<() => void>();

  private constructor(server: Server, script: ScriptStep[], apiKey: string) {
    this.#server = server;
    this.#script = script;
    this.apiKey = apiKey;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /**
   * Start a fake on a free port.
   * @param script the steps to play, one per valid, authenticated request
   */
  static async start(script: ScriptStep[] = [], options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const fake = new FakeAnthropic(server, [...script], options.apiKey ?? FAKE_API_KEY);
    server.on('request', (req, res) => void fake.#handle(req, res));
    return fake;
  }

  /** Requests that reached the script (authenticated and valid): the model calls a test made. */
  get calls(): RecordedRequest[] {
    return this.requests.filter((r) => r.stepIndex !== undefined);
  }

  /** How many scripted steps have not been played yet. */
  get remainingSteps(): number {
    return this.#script.length - this.#stepsTaken;
  }

  /** Append steps to the script. */
  push(...steps: ScriptStep[]): void {
    this.#script.push(...steps);
  }

  /** Close every connection (including streams in flight and delayed replies) and the server. */
  async stop(): Promise<void> {
    for (const cancel of [...this.#pendingDelays]) cancel();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req_fake_${String(++this.#responses).padStart(6, '0')}`;
    let recorded: RecordedRequest | undefined;
    try {
      const raw = await readBody(req);
      let body: WireRequest | undefined;
      let parseFailed = false;
      try {
        const parsed: unknown = raw ? JSON.parse(raw) : undefined;
        body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as WireRequest) : undefined;
        parseFailed = body === undefined;
      } catch {
        parseFailed = true;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const path = req.url ?? '/';
      recorded = recordRequest(this.requests.length, req.method ?? 'GET', path, headers, body);
      this.requests.push(recorded);

      if (req.method !== 'POST' || path.split('?')[0] !== '/v1/messages') {
        return this.#sendError(res, recorded, requestId, { status: 404, type: 'not_found_error', message: `Not found: ${req.method} ${path}` });
      }
      const key = headers['x-api-key'] || (headers.authorization?.startsWith('Bearer ') ? headers.authorization.slice(7) : '');
      if (!key) return this.#sendError(res, recorded, requestId, { status: 401, message: 'x-api-key header is required' });
      if (key !== this.apiKey) return this.#sendError(res, recorded, requestId, { status: 401, message: 'invalid x-api-key' });
      if (!headers['anthropic-version']) return this.#sendError(res, recorded, requestId, { status: 400, message: 'anthropic-version: header is required' });
      if (parseFailed || !body) {
        return this.#sendError(res, recorded, requestId, { status: 400, message: 'There was an error parsing the body of your request. Please make sure it is valid JSON.' });
      }
      const invalid = validateRequest(body);
      if (invalid) return this.#sendError(res, recorded, requestId, { status: 400, message: invalid, shouldRetry: false });

      if (this.#stepsTaken >= this.#script.length) {
        return this.#sendError(res, recorded, requestId, {
          status: 400,
          message: `fake-anthropic: the script is exhausted: request #${this.#stepsTaken + 1} arrived but only ${this.#script.length} step(s) were scripted`,
          shouldRetry: false,
        });
      }
      const stepIndex = this.#stepsTaken++;
      recorded.stepIndex = stepIndex;
      let step: ScriptStep = this.#script[stepIndex];
      for (let i = 0; typeof step === 'function' && i < MAX_STEP_INDIRECTION; i++) step = await step(recorded, stepIndex);
      if (typeof step === 'function') throw new Error(`step ${stepIndex} kept returning functions`);

      if (step.delayMs && !(await this.#delay(step.delayMs, res))) {
        recorded.status = 499; // client went away before the answer, as nginx logs it
        return;
      }
      if (isErrorStep(step)) return this.#sendErrorStep(res, recorded, requestId, step);
      return this.#sendReply(res, recorded, requestId, step);
    } catch (err) {
      // A bug in a test's step function: answer 500 without retry so the test fails loudly.
      if (!res.headersSent && !res.destroyed) {
        const message = `fake-anthropic: a script step failed: ${err instanceof Error ? err.message : String(err)}`;
        if (recorded) return this.#sendError(res, recorded, requestId, { status: 500, message, shouldRetry: false });
        res.writeHead(500).end(message);
      }
    }
  }

  #delay(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (stillThere: boolean): void => {
        clearTimeout(timer);
        res.off('close', onClose);
        this.#pendingDelays.delete(cancel);
        resolve(stillThere);
      };
      const onClose = (): void => finish(false);
      const cancel = (): void => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      res.once('close', onClose);
      this.#pendingDelays.add(cancel);
    });
  }

  #errorHeaders(requestId: string, error: ErrorStep['error']): Record<string, string> {
    const retryable = error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
    const headers: Record<string, string> = { 'request-id': requestId, 'x-should-retry': String(error.shouldRetry ?? retryable) };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error.retryAfterMs !== undefined) headers['retry-after-ms'] = String(error.retryAfterMs);
    return headers;
  }

  #sendError(res: ServerResponse, recorded: RecordedRequest, requestId: string, error: ErrorStep['error']): void {
    const type = error.type ?? errorTypeFor(error.status);
    const body = { type: 'error', error: { type, message: error.message ?? errorMessageFor(type) }, request_id: requestId };
    recorded.status = error.status;
    res.writeHead(error.status, { 'content-type': 'application/json', ...this.#errorHeaders(requestId, error) });
    res.end(JSON.stringify(body));
  }

  #sendErrorStep(res: ServerResponse, recorded: RecordedRequest, requestId: string, step: ErrorStep): void {
    if (!step.inStream || !recorded.stream) return this.#sendError(res, recorded, requestId, step.error);
    const type = step.error.type ?? errorTypeFor(step.error.status);
    recorded.status = 200;
    startStream(res, this.#message(recorded, { content: [], stop_reason: 'end_turn' }), { 'request-id': requestId });
    writeStreamError(res, type, step.error.message ?? errorMessageFor(type));
  }

  #sendReply(res: ServerResponse, recorded: RecordedRequest, requestId: string, step: ReplyStep): void {
    const message = this.#message(recorded, step);
    recorded.status = 200;
    const headers = { 'request-id': requestId };
    if (recorded.stream) writeStreamedMessage(res, message, headers);
    else writeJsonMessage(res, message, headers);
  }

  #message(recorded: RecordedRequest, step: ReplyStep): FakeMessage {
    return {
      id: `msg_fake_${String(recorded.index).padStart(6, '0')}`,
      type: 'message',
      role: 'assistant',
      model: recorded.model ?? 'unknown',
      content: step.content,
      stop_reason: step.stop_reason,
      stop_sequence: null,
      usage: { ...this.#usage(recorded, step), ...step.usage, service_tier: 'standard' },
    };
  }

  /**
   * Rough token counts (4 characters a token). When the tools + system prefix carries a cache
   * breakpoint, the first request writes it to the cache and later identical prefixes read it,
   * so a client's cache accounting can be tested. Breakpoints inside messages are not simulated.
   */
  #usage(recorded: RecordedRequest, step: ReplyStep): FakeUsage {
    const tokens = (value: unknown): number => Math.ceil(JSON.stringify(value).length / 4);
    const prefix = { tools: recorded.tools, system: recorded.system };
    const total = tokens({ ...prefix, messages: recorded.messages });
    const output = Math.max(1, tokens(step.content));
    const cached = [...recorded.tools, ...recorded.system].some((b) => b.cache_control != null);
    if (!cached) return { input_tokens: total, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const key = JSON.stringify(prefix);
    const prefixTokens = tokens(prefix);
    const hit = this.#cachedPrefixes.has(key);
    this.#cachedPrefixes.add(key);
    return {
      input_tokens: Math.max(1, total - prefixTokens),
      output_tokens: output,
      cache_creation_input_tokens: hit ? 0 : prefixTokens,
      cache_read_input_tokens: hit ? prefixTokens : 0,
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
