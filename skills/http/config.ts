/**
 * `skills.config.http`: which internal hosts the agent may reach, and the limits of every
 * request. Validated on every call (and at start-up, where a problem is logged), so a broken
 * block refuses calls instead of guessing; every error names its key.
 *
 * ```yaml
 * skills:
 *   builtin: [http]
 *   config:
 *     http:
 *       allowed_hosts: [grafana.internal, "*.svc.cluster.local"]   # default: none
 *       timeout_seconds: 10        # whole request, redirects and body included
 *       max_body_bytes: 65536      # http_get reads at most this much of a body
 *       max_redirects: 5
 * ```
 */
import { allowedHostProblem, compileAllowedHosts, z, type AllowedHosts } from 'mithai';

/** Where this block lives, for error messages. */
const KEY = 'skills.config.http';

/** The validated config, in the form the skill uses. */
export interface HttpConfig {
  /** Hosts whose private (never metadata) addresses are opened. */
  readonly allowedHosts: AllowedHosts;
  /** The entries as written (normalised), for messages. */
  readonly allowedHostEntries: readonly string[];
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly maxRedirects: number;
}

/** A config problem; the message names the key (`skills.config.http.allowed_hosts[2]: …`). */
export class HttpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpConfigError';
  }
}

/** A number, or a string of digits (a `${VAR}` substitution arrives as a string). */
const numberLike = (schema: z.ZodNumber) =>
  z.preprocess((value) => (typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : value), schema);

const hostEntry = z.string('expected a host name or *.suffix').superRefine((entry, issues) => {
  const problem = allowedHostProblem(entry);
  if (problem !== undefined) issues.addIssue({ code: 'custom', message: problem });
});

const schema = z.strictObject({
  allowed_hosts: z.array(hostEntry, 'expected a list of host names or *.suffix patterns').default([]),
  timeout_seconds: numberLike(z.number().positive().max(60)).default(10),
  max_body_bytes: numberLike(z.number().int().min(1).max(10 * 1024 * 1024)).default(64 * 1024),
  max_redirects: numberLike(z.number().int().min(0).max(10)).default(5),
});

const KNOWN_KEYS = Object.keys(schema.shape).join(', ');

/** Parsed configs by the object the runtime handed in (`ctx.config` is the same object every call). */
const cache = new WeakMap<object, HttpConfig>();

/**
 * The skill's config from `ctx.config`.
 * @throws HttpConfigError listing every problem, each prefixed by its key.
 */
export function httpConfig(raw: Record<string, unknown>): HttpConfig {
  const cached = cache.get(raw);
  if (cached !== undefined) return cached;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpConfigError(parsed.error.issues.map(formatIssue).join('\n'));
  const c = parsed.data;
  const config: HttpConfig = {
    allowedHosts: compileAllowedHosts(c.allowed_hosts),
    allowedHostEntries: c.allowed_hosts,
    timeoutMs: Math.round(c.timeout_seconds * 1000),
    maxBodyBytes: c.max_body_bytes,
    maxRedirects: c.max_redirects,
  };
  cache.set(raw, config);
  return config;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>((at, part) => (typeof part === 'number' ? `${at}[${part}]` : `${at}.${String(part)}`), KEY);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    return `${path}: unknown key ${keys}; expected ${KNOWN_KEYS}`;
  }
  return `${path}: ${issue.message}`;
}
