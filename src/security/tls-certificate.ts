/**
 * A short summary of a server's TLS certificate, for `check_url` and audit-friendly reports:
 * who it names, who issued it, when it expires and how many days are left. Pure: takes what
 * `TLSSocket.getPeerCertificate()` returns.
 */
import type { PeerCertificate } from 'node:tls';

const DAY_MS = 86_400_000;

/** What a caller learns about the certificate a server presented. */
export interface CertificateSummary {
  /** Subject common name(s), joined by `, `; empty when the certificate has none. */
  subjectCN: string;
  /** Issuer common name(s), or the organisation when there is no CN. */
  issuerCN: string;
  /** `notAfter` as an ISO timestamp, or undefined when it cannot be read. */
  validTo: string | undefined;
  /** Whole days until `notAfter` (negative once expired), or undefined when unknown. */
  daysLeft: number | undefined;
  /** Whether the chain and the host name verified against the trusted roots. */
  trusted: boolean;
  /** Why not, when not trusted: OpenSSL's or Node's code, e.g. `CERT_HAS_EXPIRED`. */
  problem: string | undefined;
}

/**
 * Whole days from `now` until `validTo` (an OpenSSL date such as `Mar  1 12:00:00 2030 GMT`,
 * or anything `Date.parse` reads), rounded down; negative once expired, undefined when the
 * date cannot be read. A certificate that expires in 23 hours has 0 days left.
 */
export function certificateDaysLeft(validTo: string | undefined, now: Date = new Date()): number | undefined {
  if (validTo === undefined) return undefined;
  const end = Date.parse(validTo);
  if (Number.isNaN(end)) return undefined;
  return Math.floor((end - now.getTime()) / DAY_MS);
}

/** Summarise a peer certificate; `trusted`/`problem` come from the socket's verification. */
export function summarizeCertificate(
  cert: Partial<PeerCertificate> | undefined,
  verification: { trusted: boolean; problem?: string | undefined },
  now: Date = new Date(),
): CertificateSummary {
  const validToText = typeof cert?.valid_to === 'string' ? cert.valid_to : undefined;
  const end = validToText === undefined ? NaN : Date.parse(validToText);
  return {
    subjectCN: names(cert?.subject?.CN),
    issuerCN: names(cert?.issuer?.CN) || names(cert?.issuer?.O),
    validTo: Number.isNaN(end) ? undefined : new Date(end).toISOString(),
    daysLeft: certificateDaysLeft(validToText, now),
    trusted: verification.trusted,
    problem: verification.trusted ? undefined : (verification.problem ?? 'not verified'),
  };
}

/** A certificate name field: a string, or an array when the certificate repeats it. */
function names(value: string | string[] | undefined): string {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(printable).join(', ');
}

/**
 * Certificate names come from the server, so they are data, not text for the model: keep
 * printable ASCII only and at most 128 characters.
 */
function printable(text: string): string {
  return String(text).replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
}
