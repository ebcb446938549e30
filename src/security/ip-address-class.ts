/**
 * What kind of address an IP is, for the SSRF guard: public, or which special-purpose range
 * (loopback, private, CGNAT, link-local, cloud metadata, …) it falls in, and whether an
 * operator's `allowed_hosts` may ever open it.
 *
 * Pure: no DNS, no sockets. Input is one address in standard text form (`127.0.0.1`, `::1`,
 * `[::1]`, `fe80::1%eth0`); anything else (octal `0177.0.0.1`, decimal `2130706433`, host
 * names) is not an address here and gets `undefined`, so a caller that refuses `undefined`
 * fails closed. (URLs are normalised by WHATWG parsing before they get here: `new URL()` turns
 * `http://0x7f.1/` into `127.0.0.1`.)
 *
 * IPv6 addresses that carry an IPv4 address are judged by that address: IPv4-mapped
 * (`::ffff:127.0.0.1`, which a dual-stack socket connects to as 127.0.0.1), NAT64
 * (`64:ff9b::/96`) and 6to4 (`2002::/16`). Every other IPv6 address outside global unicast
 * (`2000::/3`) is refused, so a range nobody listed is closed, not open.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The range an address falls in; `public` means none of the special-purpose ones. */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'unique-local'
  | 'site-local'
  | 'reserved';

/** How an IPv6 address carries an IPv4 one. */
export type EmbeddingKind = 'ipv4-mapped' | 'nat64' | '6to4';

/** The classification of one address. */
export interface AddressClass {
  /** The address in canonical text form (IPv6 compressed, no brackets, no zone). */
  address: string;
  family: 4 | 6;
  /** The range it falls in; for an address carrying IPv4, the IPv4 address's kind. */
  kind: AddressKind;
  /** The matching range in CIDR form, e.g. `127.0.0.0/8`; for public addresses the family's whole space. */
  range: string;
  /** One line for people, e.g. `loopback (127.0.0.0/8)` or `IPv4-mapped 10.0.0.1: private (10.0.0.0/8)`. */
  description: string;
  /**
   * False for kinds that `allowed_hosts` never opens: cloud metadata, link-local (where most
   * metadata services live), unspecified (`0.0.0.0` reaches the local host on Linux),
   * multicast and broadcast. True for public addresses and the other private-use ranges.
   */
  openable: boolean;
  /** For IPv6 that carries an IPv4 address: how, and the IPv4 address's own class. */
  embedded?: { via: EmbeddingKind; ipv4: AddressClass };
}

/** Kinds an allow-list can never open. */
const NEVER_OPENABLE: ReadonlySet<AddressKind> = new Set(['metadata', 'link-local', 'unspecified', 'multicast', 'broadcast']);

const KIND_TEXT: Record<AddressKind, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private',
  shared: 'carrier-grade NAT (shared address space)',
  'link-local': 'link-local',
  metadata: 'cloud metadata',
  unspecified: 'unspecified ("this host")',
  multicast: 'multicast',
  broadcast: 'broadcast',
  documentation: 'documentation-only',
  benchmarking: 'benchmarking',
  'unique-local': 'IPv6 unique-local',
  'site-local': 'IPv6 site-local (deprecated)',
  reserved: 'reserved',
};

/**
 * Cloud instance metadata and credential endpoints. Most sit inside 169.254.0.0/16, which is
 * never openable anyway; they are listed so refusals name them, and so that those outside
 * link-local (Alibaba's 100.100.100.200, the IPv6 ones in fd00::/8) stay closed too.
 */
const METADATA: readonly string[] = [
  '169.254.169.254/32', // AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean, Hetzner …
  '169.254.170.2/32', // AWS ECS task metadata and credentials
  '169.254.170.23/32', // AWS EKS Pod Identity agent
  '169.254.0.23/32', // Tencent Cloud
  '100.100.100.200/32', // Alibaba Cloud
  '192.0.0.192/32', // Oracle Cloud (classic)
  'fd00:ec2::254/128', // AWS IMDS over IPv6
  'fd00:ec2::23/128', // AWS EKS Pod Identity agent over IPv6
  'fd20:ce::254/128', // Google Compute Engine metadata over IPv6
];

/** IPv4 special-purpose ranges (RFC 6890 and successors), most specific first. */
const V4_RANGES: ReadonlyArray<readonly [string, AddressKind]> = [
  ...METADATA.filter((r) => !r.includes(':')).map((r) => [r, 'metadata'] as const),
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // former 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];

/** IPv6 special-purpose ranges that do not carry IPv4, most specific first. */
const V6_RANGES: ReadonlyArray<readonly [string, AddressKind]> = [
  ...METADATA.filter((r) => r.includes(':')).map((r) => [r, 'metadata'] as const),
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved'], // IPv4-compatible (deprecated)
  ['::ffff:0:0:0/96', 'reserved'], // IPv4-translated (SIIT)
  ['64:ff9b:1::/48', 'reserved'], // local-use NAT64
  ['100::/64', 'reserved'], // discard-only
  ['2001::/32', 'reserved'], // Teredo (carries an obfuscated IPv4 address)
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'reserved'], // ORCHID
  ['2001:20::/28', 'reserved'], // ORCHIDv2
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

interface Prefix {
  bytes: Uint8Array;
  bits: number;
  cidr: string;
  kind: AddressKind;
}

const V4_PREFIXES: readonly Prefix[] = V4_RANGES.map(([cidr, kind]) => prefix(cidr, kind));
const V6_PREFIXES: readonly Prefix[] = V6_RANGES.map(([cidr, kind]) => prefix(cidr, kind));
const V6_MAPPED = prefix('::ffff:0:0/96', 'reserved');
const V6_NAT64 = prefix('64:ff9b::/96', 'reserved');
const V6_6TO4 = prefix('2002::/16', 'reserved');
const V6_GLOBAL_UNICAST = prefix('2000::/3', 'public');

/**
 * Classify one IP address in standard text form. IPv6 may be bracketed and may carry a zone
 * (`fe80::1%eth0`; the zone is dropped). Returns undefined for anything that is not such an
 * address, including non-standard IPv4 forms (`0177.0.0.1`, `127.1`, `2130706433`).
 */
export function classifyAddress(text: string): AddressClass | undefined {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1 && s.includes(':')) s = s.slice(0, zone);
  if (isIPv4(s)) return classifyV4(Uint8Array.from(s.split('.').map(Number)));
  if (isIPv6(s)) {
    const bytes = parseIpv6(s);
    return bytes === undefined ? undefined : classifyV6(bytes);
  }
  return undefined;
}

/** Whether `allowed_hosts` may open this address (see {@link AddressClass.openable}). */
export function isOpenable(kind: AddressKind): boolean {
  return !NEVER_OPENABLE.has(kind);
}

function classifyV4(bytes: Uint8Array): AddressClass {
  const address = [...bytes].join('.');
  const match = V4_PREFIXES.find((p) => inPrefix(bytes, p));
  if (match === undefined) return make(address, 4, 'public', '0.0.0.0/0');
  return make(address, 4, match.kind, match.cidr);
}

function classifyV6(bytes: Uint8Array): AddressClass {
  const address = formatIpv6(bytes);
  const embedded = embeddedIpv4(bytes);
  if (embedded !== undefined) {
    const ipv4 = classifyV4(embedded.ipv4);
    const via = EMBEDDING_TEXT[embedded.via];
    return {
      address,
      family: 6,
      kind: ipv4.kind,
      range: ipv4.range,
      description: `${via} ${ipv4.address}: ${ipv4.description}`,
      openable: ipv4.openable,
      embedded: { via: embedded.via, ipv4 },
    };
  }
  const match = V6_PREFIXES.find((p) => inPrefix(bytes, p));
  if (match !== undefined) return make(address, 6, match.kind, match.cidr);
  if (!inPrefix(bytes, V6_GLOBAL_UNICAST)) return make(address, 6, 'reserved', 'outside 2000::/3');
  return make(address, 6, 'public', '2000::/3');
}

const EMBEDDING_TEXT: Record<EmbeddingKind, string> = { 'ipv4-mapped': 'IPv4-mapped', nat64: 'NAT64', '6to4': '6to4' };

function embeddedIpv4(bytes: Uint8Array): { via: EmbeddingKind; ipv4: Uint8Array } | undefined {
  if (inPrefix(bytes, V6_MAPPED)) return { via: 'ipv4-mapped', ipv4: bytes.slice(12, 16) };
  if (inPrefix(bytes, V6_NAT64)) return { via: 'nat64', ipv4: bytes.slice(12, 16) };
  if (inPrefix(bytes, V6_6TO4)) return { via: '6to4', ipv4: bytes.slice(2, 6) };
  return undefined;
}

function make(address: string, family: 4 | 6, kind: AddressKind, range: string): AddressClass {
  const description = kind === 'public' ? 'public' : `${KIND_TEXT[kind]} (${range})`;
  return { address, family, kind, range, description, openable: isOpenable(kind) };
}

function prefix(cidr: string, kind: AddressKind): Prefix {
  const [addr, bits] = cidr.split('/') as [string, string];
  const bytes = addr.includes(':') ? parseIpv6(addr) : Uint8Array.from(addr.split('.').map(Number));
  if (bytes === undefined) throw new Error(`bad range ${cidr}`);
  return { bytes, bits: Number(bits), cidr, kind };
}

function inPrefix(bytes: Uint8Array, p: Prefix): boolean {
  if (bytes.length !== p.bytes.length) return false;
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (p.bytes[i]! & mask)) return false;
  }
  return true;
}

/** 16 bytes of an IPv6 address that `net.isIPv6` accepted (no brackets, no zone). */
function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = s.slice(lastColon + 1);
    if (!isIPv4(v4)) return undefined;
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    s = s.slice(0, lastColon + 1);
    // `::ffff:1.2.3.4` leaves `::ffff:`, `::1.2.3.4` leaves `::`; drop a lone trailing colon.
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const fixed = head.length + rest.length + tail.length;
  if (halves.length === 1 ? fixed !== 8 : fixed > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - fixed).fill(0), ...rest, ...tail];
  if (words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return undefined;
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

/** RFC 5952 text form: lower case, no leading zeros, the longest run of zero groups as `::`. */
function formatIpv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
