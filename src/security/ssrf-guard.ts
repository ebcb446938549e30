/**
 * The SSRF guard's decision for one URL: may a request go there, and to which addresses.
 *
 * 1. The URL must parse (WHATWG), be `http:` or `https:`, carry no user info
 *    (`user:pass@`), and use a port off the Fetch standard's bad-port list.
 * 2. The host is resolved once, through an injectable {@link HostResolver} (default: the
 *    system's `getaddrinfo`, as `dns.promises.lookup(host, { all: true })`). A literal
 *    address is not resolved; WHATWG parsing has already turned `2130706433`, `0177.0.0.1`,
 *    `0x7f.1` and `127.1` into `127.0.0.1`.
 * 3. Every answer is classified ({@link classifyAddress}). The URL is refused when ANY answer
 *    is not public — unless the host is in `allowed_hosts` and the answer is openable (never
 *    cloud metadata, link-local, unspecified, multicast or broadcast).
 * 4. The result lists the checked addresses; the caller connects to those and nothing else
 *    (see pinned-connector.ts), so a DNS answer that changes after the check (rebinding) is
 *    never used.
 *
 * This module resolves host names (DNS I/O, through the resolver) but opens no connection.
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { isHostAllowed, NO_ALLOWED_HOSTS, type AllowedHosts } from './allowed-hosts.ts';
import { isBlockedPort } from './blocked-ports.ts';
import { HttpRequestError, SsrfBlockedError } from './http-errors.ts';
import { classifyAddress, type AddressClass } from './ip-address-class.ts';

/** One DNS answer. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to its addresses. Called once per request hop; whatever it answers is
 * checked, and the connection goes only to a checked answer. `signal` aborts at the time limit
 * (a resolver may ignore it; the guard stops waiting either way).
 */
export type HostResolver = (hostname: string, signal: AbortSignal) => Promise<readonly ResolvedAddress[]>;

/** The system resolver: `getaddrinfo` through `dns.promises.lookup`, every answer, in its order. */
export const systemResolver: HostResolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** What the guard is told: which hosts may reach private addresses, and how to resolve. */
export interface SsrfPolicy {
  /** Hosts opened to private addresses (see allowed-hosts.ts). Default: none. */
  allowedHosts?: AllowedHosts;
  /** Default {@link systemResolver}. */
  resolver?: HostResolver;
}

/** A URL the guard accepted, with the only addresses a connection to it may use. */
export interface CheckedTarget {
  url: URL;
  /** `url.hostname` without IPv6 brackets (what the connector is asked to connect to). */
  hostname: string;
  /** The port, defaults filled in (80, 443). */
  port: number;
  /** The checked addresses, in resolver order, without duplicates. Never empty. */
  addresses: readonly AddressClass[];
  /** Whether the host matched `allowed_hosts`. */
  allowListed: boolean;
}

/**
 * Parse `input` and check everything that does not need DNS: scheme, user info, port.
 * @throws SsrfBlockedError naming the rule that refused it.
 */
export function checkUrlForm(input: string | URL): URL {
  const text = String(input);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SsrfBlockedError(text, 'not a valid absolute URL');
  }
  const shown = url.href;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SsrfBlockedError(shown, `only http and https URLs are allowed, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    // Never shown: user info is usually a credential.
    throw new SsrfBlockedError(redactUserInfo(url), 'URLs with user info (user:password@) are not allowed');
  }
  const port = portOf(url);
  if (isBlockedPort(port)) throw new SsrfBlockedError(shown, `port ${port} is not allowed for HTTP`);
  return url;
}

/**
 * The guard's decision for one URL: {@link checkUrlForm}, then resolve the host and check
 * every address (see the module comment).
 * @throws SsrfBlockedError when the URL or any address is refused; HttpRequestError
 *   (`dns`, `timeout`) when the name does not resolve or `signal` aborts first.
 */
export async function checkTarget(input: string | URL, policy: SsrfPolicy = {}, signal?: AbortSignal): Promise<CheckedTarget> {
  const url = checkUrlForm(input);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const allowListed = isHostAllowed(url.hostname, policy.allowedHosts ?? NO_ALLOWED_HOSTS);
  const literal = classifyAddress(hostname);
  let answers: readonly ResolvedAddress[];
  if (literal !== undefined) answers = [{ address: literal.address, family: literal.family }];
  else if (hostname.includes(':') || isIPv4(hostname)) throw new SsrfBlockedError(url.href, `unreadable address ${hostname}`);
  else answers = await resolve(url, hostname, policy.resolver ?? systemResolver, signal);

  const addresses: AddressClass[] = [];
  for (const answer of answers) {
    const cls = classifyAddress(typeof answer?.address === 'string' ? answer.address : '');
    if (cls === undefined) {
      throw new SsrfBlockedError(url.href, `${hostname} resolved to ${JSON.stringify(answer?.address)}, which is not an IP address`);
    }
    const ok = cls.kind === 'public' || (allowListed && cls.openable);
    if (!ok) throw new SsrfBlockedError(url.href, refusal(hostname, cls, allowListed));
    if (!addresses.some((a) => a.address === cls.address)) addresses.push(cls);
  }
  if (addresses.length === 0) throw new HttpRequestError('dns', url.href, `${hostname} did not resolve to any address`);
  return { url, hostname, port: portOf(url), addresses, allowListed };
}

function refusal(hostname: string, cls: AddressClass, allowListed: boolean): string {
  const where = hostname === cls.address ? `${cls.address} is` : `${hostname} resolves to ${cls.address}, which is`;
  if (!cls.openable) return `${where} ${cls.description}, never allowed`;
  if (allowListed) return `${where} ${cls.description}`;
  return `${where} ${cls.description}; only hosts listed in allowed_hosts may reach non-public addresses`;
}

async function resolve(url: URL, hostname: string, resolver: HostResolver, signal: AbortSignal | undefined): Promise<readonly ResolvedAddress[]> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(new HttpRequestError('timeout', url.href, `gave up resolving ${hostname}: the request was aborted or timed out`));
      if (controller.signal.aborted) fail();
      controller.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => {}); // settled either way below; no unhandled rejection
    const answers = await Promise.race([resolver(hostname, controller.signal), aborted]);
    if (!Array.isArray(answers)) throw new SsrfBlockedError(url.href, `the resolver gave no list of addresses for ${hostname}`);
    return answers;
  } catch (err) {
    if (err instanceof SsrfBlockedError || err instanceof HttpRequestError) throw err;
    const code = (err as NodeJS.ErrnoException | null)?.code;
    throw new HttpRequestError('dns', url.href, `${hostname} did not resolve${code ? ` (${code})` : ''}`, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function redactUserInfo(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href.replace('://', '://***@');
}
