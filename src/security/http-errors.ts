/**
 * The two ways a guarded HTTP request fails: the SSRF guard refused it (a policy decision,
 * {@link SsrfBlockedError}), or the network did ({@link HttpRequestError}: timeout, DNS,
 * connection, TLS trust, too many redirects). Both carry the hops made so far.
 */
import { MithaiError } from '../errors.ts';
import type { CertificateSummary } from './tls-certificate.ts';

/** One request of a redirect chain, as made (or refused). */
export interface HopRecord {
  /** The URL requested (no user info; WHATWG-normalised). */
  url: string;
  /** The address the connection went to, once connected. */
  address?: string;
  /** The response status, once headers arrived. */
  status?: number;
  /** The `Location` of a redirect, resolved against `url`. */
  location?: string;
  /** Milliseconds from the start of this hop (DNS included) to its response headers. */
  ms?: number;
  /** The server's certificate, for https. */
  tls?: CertificateSummary;
}

/** The SSRF guard refused a URL: bad scheme, user info, port, or a forbidden address. */
export class SsrfBlockedError extends MithaiError {
  /** The refused URL (as given when it did not parse; user info replaced by `***`). */
  readonly url: string;
  /** Why, without the URL: e.g. `169.254.169.254 is cloud metadata (169.254.169.254/32), never allowed`. */
  readonly reason: string;
  /** Hops made before the refused one (empty when the first URL was refused). */
  readonly hops: readonly HopRecord[];
  /**
   * The message is `refused URL: reason`, or for a redirect
   * `redirect N from PREVIOUS to URL refused: reason`.
   */
  constructor(url: string, reason: string, options?: { redirect?: { index: number; from: string }; hops?: readonly HopRecord[]; cause?: unknown }) {
    const redirect = options?.redirect;
    const message = redirect === undefined
      ? `refused ${shorten(url)}: ${reason}`
      : `redirect ${redirect.index} from ${shorten(redirect.from)} to ${shorten(url)} refused: ${reason}`;
    super('ssrf_blocked', message, options);
    this.url = url;
    this.reason = reason;
    this.hops = options?.hops ?? [];
  }
}

/** Why a guarded request failed on the way, not by policy. */
export type HttpFailure = 'timeout' | 'dns' | 'connect' | 'tls_untrusted' | 'too_many_redirects' | 'protocol';

/** A guarded request failed: timed out, did not resolve or connect, untrusted TLS, … */
export class HttpRequestError extends MithaiError {
  readonly failure: HttpFailure;
  readonly url: string;
  readonly hops: readonly HopRecord[];
  /** The certificate the server presented, when the failure is about TLS trust. */
  readonly tls: CertificateSummary | undefined;
  constructor(
    failure: HttpFailure,
    url: string,
    message: string,
    options?: { hops?: readonly HopRecord[]; tls?: CertificateSummary; cause?: unknown },
  ) {
    super(`http_${failure}`, message, options);
    this.failure = failure;
    this.url = url;
    this.hops = options?.hops ?? [];
    this.tls = options?.tls;
  }
}

/** URLs in messages: at most 200 characters. */
export function shorten(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 197)}...`;
}
