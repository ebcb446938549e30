/**
 * `allowed_hosts`: the host names an operator opens to the SSRF guard, so that a tool may
 * reach them even though they resolve to private addresses (an internal Grafana, a service in
 * the cluster). Pure: matching is on the host name in the URL, never on DNS answers.
 *
 * Entries:
 * - `grafana.internal` — exactly that host (case-insensitive, a trailing dot ignored);
 * - `*.svc.cluster.local` — any host *under* that suffix, at any depth (`a.svc.cluster.local`,
 *   `a.b.svc.cluster.local`), but not `svc.cluster.local` itself: list it too if you mean it;
 * - `10.0.0.5`, `fd00::5` or `[fd00::5]` — a literal address in standard form, matching URLs
 *   that name that address (in any form WHATWG parsing accepts, e.g. `http://167772165/`).
 *
 * A lone `*`, patterns with `*` anywhere but a leading `*.`, ports, schemes, paths and
 * non-standard IPv4 forms are refused, as are addresses an allow-list never opens (cloud
 * metadata, link-local, …: `AddressClass.openable` in ip-address-class.ts). Being listed opens a host's
 * private addresses only; metadata and link-local answers stay refused even for listed hosts.
 */
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { classifyAddress } from './ip-address-class.ts';

/** Compiled `allowed_hosts`: exact names and addresses, and `*.` suffixes. */
export interface AllowedHosts {
  /** Exact host names (lower case, no trailing dot) and canonical addresses (IPv6 without brackets). */
  readonly exact: ReadonlySet<string>;
  /** Suffixes from `*.suffix` entries, without the `*.`. */
  readonly suffixes: readonly string[];
}

/** An allow-list that opens nothing. */
export const NO_ALLOWED_HOSTS: AllowedHosts = Object.freeze({ exact: new Set<string>(), suffixes: Object.freeze([]) });

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/**
 * Why `entry` is not a valid `allowed_hosts` entry, or undefined when it is. The text reads
 * after the entry's config path, e.g. `allowed_hosts[2]: expected a host name or *.suffix, …`.
 */
export function allowedHostProblem(entry: string): string | undefined {
  const parsed = parseEntry(entry);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/**
 * Compile entries (each checked as by {@link allowedHostProblem}).
 * @throws TypeError naming the first bad entry by index and value.
 */
export function compileAllowedHosts(entries: readonly string[]): AllowedHosts {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  entries.forEach((entry, i) => {
    const parsed = parseEntry(entry);
    if ('problem' in parsed) throw new TypeError(`allowed_hosts[${i}]: ${parsed.problem}`);
    if (parsed.suffix) suffixes.push(parsed.host);
    else exact.add(parsed.host);
  });
  return { exact, suffixes };
}

/**
 * Whether the host of a URL (`url.hostname`: already lower case and punycode after WHATWG
 * parsing; IPv6 in brackets) is in the allow-list. Suffix patterns never match addresses.
 */
export function isHostAllowed(hostname: string, allowed: AllowedHosts): boolean {
  const host = normalizeUrlHost(hostname);
  if (allowed.exact.has(host)) return true;
  if (isIP(host) !== 0) return false;
  return allowed.suffixes.some((suffix) => host.endsWith(`.${suffix}`));
}

/** The form hosts are compared in: no brackets, no trailing dot, lower case. */
export function normalizeUrlHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

type ParsedEntry = { host: string; suffix: boolean } | { problem: string };

function parseEntry(raw: string): ParsedEntry {
  const shown = JSON.stringify(raw);
  const expected = `expected a host name or *.suffix, got ${shown}`;
  if (typeof raw !== 'string') return { problem: `expected a host name or *.suffix, got ${typeof raw}` };
  let text = raw.trim().toLowerCase();
  if (text === '*' || text === '*.') return { problem: `${shown} would open every host; list host names or *.suffix patterns` };
  const suffix = text.startsWith('*.');
  if (suffix) text = text.slice(2);
  if (text.includes('*')) return { problem: `${expected} (* is only allowed as a leading "*.")` };

  const bracketed = text.startsWith('[') && text.endsWith(']');
  const bare = bracketed ? text.slice(1, -1) : text;
  if (isIP(bare) !== 0) {
    if (suffix) return { problem: `${expected} (a *. pattern takes a host name, not an address)` };
    const cls = classifyAddress(bare);
    if (cls === undefined) return { problem: expected };
    if (!cls.openable) return { problem: `${shown} is ${cls.description}, which allowed_hosts never opens` };
    return { host: cls.address, suffix: false };
  }
  if (bracketed) return { problem: expected };

  if (text.endsWith('.')) text = text.slice(0, -1);
  // Only a host: no port, path, user info, scheme or spaces (domainToASCII would drop some).
  if (/[\s/\\?#@:%[\]<>^|"'`{}]/.test(text)) return { problem: expected };
  // WHATWG host parsing: lower case, punycode, and IPv4 in any form read as an address.
  const ascii = domainToASCII(text);
  // A name WHATWG reads as an IPv4 address (`127.1`, `0x7f.1`, `1.2.3`) is not a name; ask
  // for the standard form, so that the entry means what it looks like.
  if (isIP(ascii) === 4) return { problem: `${expected} (write the address as ${ascii})` };
  if (ascii === '' || ascii.length > 253 || !HOST_NAME.test(ascii)) return { problem: expected };
  return { host: ascii, suffix };
}
