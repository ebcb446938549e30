/**
 * `guardedGet`: an HTTP GET that cannot be pointed at internal addresses. Every hop of a
 * redirect chain goes through the SSRF guard (ssrf-guard.ts) and connects only to the
 * addresses the guard checked (pinned-connector.ts). Redirects are followed by hand, at most
 * `maxRedirects`, each one re-checked; the whole chain has one time limit; the body is read up
 * to `maxBodyBytes` and the connection is dropped there.
 *
 * What is never sent: cookies (there is no cookie jar), credentials (URLs with user info are
 * refused; no Authorization header), proxies (a fresh undici `Client` per hop talks straight to
 * the pinned address; `HTTP_PROXY`/`HTTPS_PROXY` and the global dispatcher are never
 * consulted). Requests carry a fixed User-Agent naming mithai and ask for no compression.
 */
import { Client } from 'undici';
import { HttpRequestError, SsrfBlockedError, shorten, type HopRecord } from './http-errors.ts';
import { pinnedConnector } from './pinned-connector.ts';
import { checkTarget, type CheckedTarget, type SsrfPolicy } from './ssrf-guard.ts';
import type { CertificateSummary } from './tls-certificate.ts';

/** The User-Agent of every guarded request. */
export const GUARDED_USER_AGENT = 'mithai-http/1 (mithai ops agent)';

export const GUARDED_GET_DEFAULTS = Object.freeze({ timeoutMs: 10_000, maxBodyBytes: 65_536, maxRedirects: 5 });

export interface GuardedGetOptions extends SsrfPolicy {
  /** Time limit for the whole request, every redirect and the body included. Default 10 s. */
  timeoutMs?: number;
  /** Read at most this many body bytes, then drop the connection. 0 reads none. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Redirects followed before giving up. Default 5; 0 returns the first response as it is. */
  maxRedirects?: number;
  /** Aborts the request (e.g. the tool call's `ctx.signal`). */
  signal?: AbortSignal;
  /** Trusted roots for https, replacing Node's defaults (an internal CA, tests). */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** The Accept header. Default: text and JSON first, anything else last. */
  accept?: string;
}

/** How reading the body ended. */
export type BodyEnd = 'complete' | 'cap' | 'timeout' | 'not-read';

export interface GuardedResponse {
  /** The URL of the final response. */
  url: string;
  status: number;
  /** Response headers, lower-case names, repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Every request made, the final one last; the ones before it are the redirects. */
  hops: readonly HopRecord[];
  /** Milliseconds from the start to the final response's headers. */
  latencyMs: number;
  /** The body bytes read: at most `maxBodyBytes`. */
  body: Buffer;
  /** `complete`: all of it; `cap`: more followed and was not read; `timeout`: the time limit cut it. */
  bodyEnd: BodyEnd;
  /** `Content-Length`, when the server sent one. */
  contentLength: number | undefined;
  /** The final hop's certificate, for https. */
  tls: CertificateSummary | undefined;
}

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const DEFAULT_ACCEPT = 'text/*, application/json, application/xml;q=0.9, */*;q=0.1';

/**
 * GET `url` through the SSRF guard, following redirects by hand.
 *
 * @throws SsrfBlockedError when the guard refuses the URL or any redirect (the message names
 *   the hop); HttpRequestError on timeout, DNS or connection failure, untrusted TLS, too many
 *   redirects, or an unusable response; the caller's abort reason when `signal` aborts.
 */
export async function guardedGet(input: string | URL, options: GuardedGetOptions = {}): Promise<GuardedResponse> {
  const timeoutMs = options.timeoutMs ?? GUARDED_GET_DEFAULTS.timeoutMs;
  const maxBodyBytes = options.maxBodyBytes ?? GUARDED_GET_DEFAULTS.maxBodyBytes;
  const maxRedirects = options.maxRedirects ?? GUARDED_GET_DEFAULTS.maxRedirects;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new RangeError(`guardedGet: timeoutMs must be a positive number, got ${timeoutMs}`);
  if (!(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0)) throw new RangeError(`guardedGet: maxBodyBytes must be a whole number >= 0, got ${maxBodyBytes}`);
  if (!(Number.isSafeInteger(maxRedirects) && maxRedirects >= 0)) throw new RangeError(`guardedGet: maxRedirects must be a whole number >= 0, got ${maxRedirects}`);
  const started = performance.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const hops: HopRecord[] = [];
  let url: string | URL = input;

  for (let redirects = 0; ; redirects++) {
    const hopStarted = performance.now();
    let target: CheckedTarget;
    try {
      target = await checkTarget(url, options, signal);
    } catch (err) {
      throw namedHop(err, hops, signal, options.signal, timeoutMs);
    }
    const hop: HopRecord = { url: target.url.href };
    hops.push(hop);
    const client = new Client(target.url.origin, {
      connect: pinnedConnector({
        target,
        connectTimeoutMs: remaining(started, timeoutMs),
        signal,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        onConnected: (address) => (hop.address = address),
        onCertificate: (summary) => (hop.tls = summary),
      }),
      headersTimeout: remaining(started, timeoutMs),
      bodyTimeout: remaining(started, timeoutMs),
      pipelining: 1,
    });
    try {
      const response = await client
        .request({
          method: 'GET',
          path: `${target.url.pathname}${target.url.search}`,
          headers: { 'user-agent': GUARDED_USER_AGENT, accept: options.accept ?? DEFAULT_ACCEPT, 'accept-encoding': 'identity' },
          signal,
        })
        .catch((err: unknown) => {
          throw requestFailure(err, target, hop, hops, signal, options.signal, timeoutMs);
        });
      hop.status = response.statusCode;
      hop.ms = Math.round(performance.now() - hopStarted);
      const headers = flattenHeaders(response.headers);
      const location = headers.location;
      if (REDIRECTS.has(response.statusCode) && location !== undefined && maxRedirects > 0) {
        discard(response.body);
        hop.location = resolveLocation(location, target.url, hops);
        if (redirects >= maxRedirects) {
          throw new HttpRequestError('too_many_redirects', target.url.href, `more than ${maxRedirects} redirects (last: ${shorten(hop.url)} -> ${shorten(hop.location)})`, { hops: [...hops] });
        }
        url = hop.location;
        continue;
      }
      const latencyMs = Math.round(performance.now() - started);
      const read = await readCapped(response.body, maxBodyBytes, signal, options.signal);
      const length = Number(headers['content-length']);
      return {
        url: target.url.href,
        status: response.statusCode,
        headers,
        hops: [...hops],
        latencyMs,
        body: read.body,
        bodyEnd: read.end,
        contentLength: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
        tls: hop.tls,
      };
    } finally {
      await client.destroy().catch(() => {});
    }
  }
}

/** Milliseconds left of the time limit, at least 1 (undici treats 0 as "no limit"). */
function remaining(started: number, timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs - (performance.now() - started)));
}

/** A failure before the hop's request: put the hop into the error ("redirect 2 from A to B refused: …"). */
function namedHop(err: unknown, hops: HopRecord[], signal: AbortSignal, callerSignal: AbortSignal | undefined, timeoutMs: number): unknown {
  if (callerSignal?.aborted) return callerSignal.reason;
  const previous = hops.at(-1);
  if (err instanceof SsrfBlockedError) {
    const redirect = previous === undefined ? undefined : { index: hops.length, from: previous.url };
    return new SsrfBlockedError(err.url, err.reason, { ...(redirect ? { redirect } : {}), hops: [...hops], cause: err });
  }
  if (err instanceof HttpRequestError) {
    if (err.failure === 'timeout' || signal.aborted) return timedOut(err.url, hops, timeoutMs, err);
    return new HttpRequestError(err.failure, err.url, err.message, { hops: [...hops], cause: err });
  }
  return err;
}

function requestFailure(
  err: unknown,
  target: CheckedTarget,
  hop: HopRecord,
  hops: HopRecord[],
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): unknown {
  if (callerSignal?.aborted) return callerSignal.reason;
  const code = (err as { code?: unknown } | null)?.code;
  if (signal.aborted) return timedOut(target.url.href, hops, timeoutMs, err);
  if (err instanceof HttpRequestError) {
    return new HttpRequestError(err.failure, err.url, err.message, { hops: [...hops], ...(err.tls ? { tls: err.tls } : {}), cause: err });
  }
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || (err as Error | null)?.name === 'TimeoutError' || (err as Error | null)?.name === 'AbortError') {
    return timedOut(target.url.href, hops, timeoutMs, err);
  }
  const detail = typeof code === 'string' ? code : (err as Error | null)?.message ?? String(err);
  const where = hop.address !== undefined ? `${target.hostname} (${hop.address})` : target.hostname;
  return new HttpRequestError('protocol', target.url.href, `request to ${where} failed: ${detail}`, { hops: [...hops], cause: err });
}

function timedOut(url: string, hops: HopRecord[], timeoutMs: number, cause: unknown): HttpRequestError {
  const where = hops.length > 1 ? ` (at redirect ${hops.length - 1}, ${shorten(url)})` : ` (${shorten(url)})`;
  return new HttpRequestError('timeout', url, `timed out after ${timeoutMs / 1000} s${where}`, { hops: [...hops], cause });
}

function resolveLocation(location: string, base: URL, hops: readonly HopRecord[]): string {
  try {
    return new URL(location, base).href;
  } catch {
    const message = `${shorten(base.href)} redirected to an unreadable Location ${JSON.stringify(shorten(location))}`;
    throw new HttpRequestError('protocol', base.href, message, { hops: [...hops] });
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Read at most `cap` bytes; stop reading (and so drop the connection) as soon as more than
 * that arrived. The time limit ends the read with what arrived so far; the caller's abort
 * throws.
 */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown; on(event: 'error', listener: () => void): unknown },
  cap: number,
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined,
): Promise<{ body: Buffer; end: BodyEnd }> {
  if (cap <= 0) {
    discard(body);
    return { body: Buffer.alloc(0), end: 'not-read' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (size + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - size));
        size = cap;
        return { body: Buffer.concat(chunks, size), end: 'cap' };
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    return { body: Buffer.concat(chunks, size), end: 'complete' };
  } catch (err) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    const code = (err as { code?: unknown } | null)?.code;
    if (signal.aborted || code === 'UND_ERR_BODY_TIMEOUT') return { body: Buffer.concat(chunks, size), end: 'timeout' };
    throw err;
  } finally {
    discard(body);
  }
}

/**
 * Stop reading a body and drop its connection. undici reports destroying an unfinished body
 * as an 'error' event; nobody is reading any more, so that is expected and swallowed.
 */
function discard(body: { destroy(): unknown; on(event: 'error', listener: () => void): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}
