/**
 * How responses are shown to the model: a compact report for `check_url`, and for `http_get`
 * a header line, the redirects, and the body when it is text (anything else is described by
 * type and length, never dumped as bytes).
 */
import type { CertificateSummary, GuardedResponse, HopRecord } from 'mithai';

/** Media types shown as text besides `text/*`; `+json` and `+xml` suffixes count too. */
const TEXT_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/ld+json',
  'application/x-ndjson',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/graphql',
  'application/sql',
  'image/svg+xml',
]);

/** The media type (`text/html`) of a Content-Type header, lower case; '' when absent. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Whether a body is shown as text: by its Content-Type, or, when there is none, when its first
 * bytes hold no control characters but tab, newline, carriage return and form feed. A body
 * in a Content-Encoding other than identity (the server ignored `Accept-Encoding: identity`)
 * is compressed bytes and never text.
 */
export function isTextBody(headers: Readonly<Record<string, string>>, body: Buffer): boolean {
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') return false;
  const type = mediaType(headers['content-type']);
  if (type === '') return !/[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(body.subarray(0, 512).toString('latin1'));
  return type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

/** Decode a text body in the charset its Content-Type names (UTF-8 when none or unknown). */
export function decodeBody(contentType: string | undefined, body: Buffer): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** `check_url`'s result: compact JSON for the model. */
export interface CheckReport {
  url: string;
  /** True when the final status is below 400 and, for https, the certificate is trusted. */
  ok: boolean;
  status?: number;
  latency_ms?: number;
  final_url?: string;
  redirects: Array<{ url: string; status: number | undefined; ms: number | undefined }>;
  tls?: TlsReport;
  /** Why the check failed (timeout, DNS, connection, TLS trust, too many redirects). */
  error?: string;
}

export interface TlsReport {
  trusted: boolean;
  problem?: string;
  days_left?: number;
  expires?: string;
  subject_cn: string;
  issuer_cn: string;
}

/** The report of a check that got a final response. */
export function checkReport(url: string, response: GuardedResponse): CheckReport {
  const tls = response.tls === undefined ? undefined : tlsReport(response.tls);
  return {
    url,
    ok: response.status < 400 && (tls === undefined || tls.trusted),
    status: response.status,
    latency_ms: response.latencyMs,
    ...(response.url !== url ? { final_url: response.url } : {}),
    redirects: redirectsOf(response.hops.slice(0, -1)),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** The report of a check that failed on the way (not a guard refusal: those are errors). */
export function failedCheckReport(url: string, error: string, hops: readonly HopRecord[], tls: CertificateSummary | undefined): CheckReport {
  const lastTls = tls ?? hops.at(-1)?.tls;
  return {
    url,
    ok: false,
    error,
    redirects: redirectsOf(hops.filter((h) => h.location !== undefined)),
    ...(lastTls !== undefined ? { tls: tlsReport(lastTls) } : {}),
  };
}

function redirectsOf(hops: readonly HopRecord[]): CheckReport['redirects'] {
  return hops.map((h) => ({ url: h.url, status: h.status, ms: h.ms }));
}

function tlsReport(cert: CertificateSummary): TlsReport {
  return {
    trusted: cert.trusted,
    ...(cert.problem !== undefined ? { problem: cert.problem } : {}),
    ...(cert.daysLeft !== undefined ? { days_left: cert.daysLeft } : {}),
    ...(cert.validTo !== undefined ? { expires: cert.validTo } : {}),
    subject_cn: cert.subjectCN,
    issuer_cn: cert.issuerCN,
  };
}

/** `http_get`'s result: a header block, then the body (or what it is), then what was cut. */
export function getReport(response: GuardedResponse, maxBodyBytes: number): string {
  const lines = [`HTTP ${response.status} from ${response.url} in ${response.latencyMs} ms`];
  const redirects = response.hops.slice(0, -1);
  if (redirects.length > 0) lines.push(`redirects: ${redirects.map((h) => `${h.url} (${h.status})`).join(' -> ')} -> ${response.url}`);
  const type = response.headers['content-type'] ?? '(no content type)';
  const size = sizeText(response);
  lines.push(`content-type: ${type}; ${size}`);

  if (!isTextBody(response.headers, response.body)) {
    const encoding = response.headers['content-encoding'];
    const what = encoding !== undefined && encoding.toLowerCase() !== 'identity' ? `${encoding}-encoded` : 'not text';
    lines.push(`[body not shown: ${what} (${mediaType(response.headers['content-type']) || 'unknown type'}), ${size}]`);
    return lines.join('\n');
  }
  if (response.body.length === 0) {
    lines.push('[empty body]');
    return lines.join('\n');
  }
  lines.push('', decodeBody(response.headers['content-type'], response.body));
  const cut = cutNote(response, maxBodyBytes);
  if (cut !== undefined) lines.push('', cut);
  return lines.join('\n');
}

function sizeText(response: GuardedResponse): string {
  if (response.contentLength !== undefined) return `${response.contentLength} bytes`;
  if (response.bodyEnd === 'complete') return `${response.body.length} bytes`;
  return 'length unknown';
}

function cutNote(response: GuardedResponse, maxBodyBytes: number): string | undefined {
  const shown = response.body.length;
  if (response.bodyEnd === 'cap') {
    const total = response.contentLength;
    const of = total !== undefined ? ` of ${total} (${total - shown} bytes cut)` : '; the rest was not read';
    return `[cut: showed the first ${shown} bytes${of}; the limit is max_body_bytes = ${maxBodyBytes}]`;
  }
  if (response.bodyEnd === 'timeout') return `[cut: the time limit ended the body after ${shown} bytes]`;
  return undefined;
}
