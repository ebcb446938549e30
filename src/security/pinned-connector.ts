/**
 * An undici connector that connects only to the addresses the SSRF guard checked.
 *
 * undici would otherwise resolve the host name again when it connects, and a DNS server that
 * answers a public address to the guard and 127.0.0.1 to the connection (DNS rebinding) would
 * get through. This connector ignores the name for the connection: it opens a socket to each
 * checked address in turn (the next one only when the previous refused to connect) and keeps
 * the name for TLS — SNI and certificate verification use the URL's host, while undici's
 * `Host` header comes from the request's origin.
 *
 * TLS: verification is never skipped. The socket is opened with `rejectUnauthorized: false`
 * only so that the certificate can still be described when it fails (an expired certificate
 * is what `check_url` is for); a socket that is not `authorized` (chain and host name) is
 * destroyed before any byte of the request is written, and the connection fails.
 */
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { HttpRequestError } from './http-errors.ts';
import type { CheckedTarget } from './ssrf-guard.ts';
import { summarizeCertificate, type CertificateSummary } from './tls-certificate.ts';

/** How the pinned connector reports what it did, for the hop record. */
export interface ConnectReport {
  /** Called with the address a socket connected to. */
  onConnected?: (address: string) => void;
  /** Called with the server's certificate (https), trusted or not. */
  onCertificate?: (summary: CertificateSummary) => void;
}

export interface PinnedConnectorOptions extends ConnectReport {
  target: CheckedTarget;
  /** Per-address connect time limit, in milliseconds. */
  connectTimeoutMs: number;
  /** Trusted roots for https, replacing Node's defaults (an internal CA, tests). */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Aborts a connection attempt in flight (the request's time limit or the caller). */
  signal?: AbortSignal;
}

/** A connector for `new undici.Client(origin, { connect })`, pinned to `target.addresses`. */
export function pinnedConnector(options: PinnedConnectorOptions): buildConnector.connector {
  const { target } = options;
  const base = buildConnector({
    timeout: options.connectTimeoutMs,
    rejectUnauthorized: false, // checked by hand below, before the socket is handed over
    maxCachedSessions: 0, // no TLS session reuse: every connection verifies the certificate
    ...(options.ca !== undefined ? { ca: options.ca as string | Buffer | Array<string | Buffer> } : {}),
  });
  // SNI and host-name verification use the URL's host; none for a literal address.
  const servername = isIP(target.hostname) !== 0 ? '' : target.hostname.replace(/\.$/, '');
  const { signal } = options;

  return (params, callback) => {
    if (params.hostname !== target.hostname || params.protocol !== target.url.protocol) {
      // This client was made for one origin; anything else is a bug, and fails closed.
      callback(new HttpRequestError('connect', target.url.href, `pinned connector for ${target.hostname} asked to connect to ${params.hostname}`), null);
      return;
    }
    const tryAddress = (index: number, lastError: Error | undefined): void => {
      const address = target.addresses[index]?.address;
      if (signal?.aborted) {
        callback(new HttpRequestError('timeout', target.url.href, `connecting to ${target.hostname} was aborted`, { cause: signal.reason }), null);
        return;
      }
      if (address === undefined) {
        callback(connectFailure(target, lastError), null);
        return;
      }
      // Destroy an attempt still connecting when the request is aborted, rather than leave it
      // open until its own connect timeout. With an error: the connector calls back only on
      // 'connect' or 'error', never on a bare close.
      const abort = (): void => void attempt?.destroy(new Error('connection attempt aborted'));
      const attempt: Socket | undefined = base({ ...params, hostname: address, servername }, (err, socket) => {
        signal?.removeEventListener('abort', abort);
        if (err !== null || socket === null) {
          tryAddress(index + 1, err ?? undefined);
          return;
        }
        if (params.protocol === 'https:') {
          const tlsSocket = socket as TLSSocket;
          const summary = summarizeCertificate(tlsSocket.getPeerCertificate(), {
            trusted: tlsSocket.authorized === true,
            problem: errorCode(tlsSocket.authorizationError),
          });
          options.onCertificate?.(summary);
          if (tlsSocket.authorized !== true) {
            socket.destroy();
            const message = `TLS certificate of ${target.hostname} is not trusted: ${summary.problem}`;
            callback(new HttpRequestError('tls_untrusted', target.url.href, message, { tls: summary }), null);
            return;
          }
        }
        options.onConnected?.(address);
        callback(null, socket as Socket);
      }) as unknown as Socket | undefined; // buildConnector returns the socket (typed void)
      signal?.addEventListener('abort', abort, { once: true });
    };
    tryAddress(0, undefined);
  };
}

function connectFailure(target: CheckedTarget, err: Error | undefined): HttpRequestError {
  const addresses = target.addresses.map((a) => (a.family === 6 ? `[${a.address}]` : a.address)).join(', ');
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? err?.message ?? 'unknown error';
  return new HttpRequestError('connect', target.url.href, `could not connect to ${target.hostname} port ${target.port} (${addresses}): ${code}`, { cause: err });
}

function errorCode(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Error) return (value as NodeJS.ErrnoException).code ?? value.message;
  return String(value);
}
