/**
 * The one place where secrets are removed from text on its way out of the runtime: pino logs,
 * the audit log, Slack messages and approval cards, memory files, and tool results sent back
 * to the model.
 *
 * Two kinds of knowledge:
 * - the actual secret values this process resolved (every substituted `${NAME}`, the Slack and
 *   Anthropic tokens), in their raw, base64, URL-encoded and JSON-escaped forms, because a
 *   secret often leaves a process encoded (a Basic auth header, a query string, a JSON log line);
 * - well-known token shapes, for secrets we were never told about (a token a tool printed).
 *
 * Errs towards over-redaction: a `[REDACTED]` too many costs a little readability, one too few
 * leaks a credential.
 */

/** What every redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are ignored: redacting every `admin` or `1234` would wreck output. */
export const MIN_SECRET_LENGTH = 6;

// Each pattern's first group is kept; the rest of the match becomes [REDACTED].
// The lookbehinds stop a shape from matching inside a longer word (`task-ant-` is not `sk-ant-`).
// Repeats before a fixed delimiter are bounded ({0,40}) so that tool output of a few hundred KB
// cannot make a pattern backtrack quadratically (the redactor sits on every output path).
const SHAPES: readonly RegExp[] = [
  // A PEM private key block; a block cut off before its END line is redacted to the end.
  /()-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /()(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]+/g,
  /()(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]+/g,
  /()(?<![A-Za-z0-9])xapp-[A-Za-z0-9-]+/g,
  /()(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![0-9A-Z])/g,
  /()(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}/g,
  /()(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]+/g,
  // user:password@ in URLs; the user name is kept.
  /(\b[a-z][a-z0-9+.-]{0,30}:\/\/[^\s/:@]{0,256}:)[^\s/@]{1,256}(?=@)/gi,
  // Authorization headers (`Authorization: Bearer x`, `"authorization":"Basic x"`), whatever the scheme.
  /(\bauthorization["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Bot|Digest)\s+)?)[^\s"',;]+/gi,
  // password=..., token=..., api_key=..., X-Amz-Signature=... in URLs, query strings, env dumps.
  /(\b[A-Za-z0-9_.-]{0,40}(?:password|passwd|pwd|token|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|signature)[A-Za-z0-9_.-]{0,40}=)[^&\s"'#<>,;]+/gi,
];

// `Bearer <token>` on its own (not in an Authorization header). Checked by a function so the
// prose "Bearer authentication" survives while real tokens (which have digits or punctuation,
// or are long) do not.
const BEARER = /\b(Bearer\s+)([A-Za-z0-9._~+/-]+=*)/gi;

/**
 * Replaces secrets and token shapes with `[REDACTED]`.
 *
 * @example
 * const redactor = new Redactor(loaded.secrets);
 * redactor.redact(`curl -H "Authorization: Bearer ${token}"`); // 'curl -H "Authorization: Bearer [REDACTED]"'
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | null = null;
  #isDirty = false;

  /** @param secrets - known secret values; values shorter than {@link MIN_SECRET_LENGTH} are ignored. */
  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.addSecret(secret);
  }

  /** Learn one more secret value (and its encoded forms). Short values are ignored. */
  addSecret(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    for (const form of encodedForms(value)) {
      if (form.length >= MIN_SECRET_LENGTH && !this.#secrets.has(form)) {
        this.#secrets.add(form);
        this.#isDirty = true;
      }
    }
  }

  /** Return `text` with every known secret and token shape replaced by `[REDACTED]`. */
  redact(text: string): string {
    if (typeof text !== 'string' || text === '') return text;
    let out = text;
    const known = this.#knownPattern();
    if (known) out = out.replace(known, REDACTED);
    for (const shape of SHAPES) out = out.replace(shape, (_m, keep: string) => `${keep}${REDACTED}`);
    out = out.replace(BEARER, (match, prefix: string, token: string) => (looksLikeToken(token) ? `${prefix}${REDACTED}` : match));
    return out;
  }

  /**
   * A copy of `value` with every string inside it redacted: plain objects and arrays are walked,
   * keys are kept, other values (numbers, Dates, class instances) are returned as they are.
   * Cycles are preserved rather than followed forever.
   */
  redactDeep<T>(value: T): T {
    return this.#deep(value, new Map()) as T;
  }

  #deep(value: unknown, seen: Map<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const existing = seen.get(value);
    if (existing !== undefined) return existing;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(this.#deep(item, seen));
      return copy;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const copy: Record<string, unknown> = {};
    seen.set(value, copy);
    for (const [key, item] of Object.entries(value)) copy[key] = this.#deep(item, seen);
    return copy;
  }

  /** One alternation of all known forms, longest first so a secret containing another is fully replaced. */
  #knownPattern(): RegExp | null {
    if (this.#isDirty) {
      const forms = [...this.#secrets].sort((a, b) => b.length - a.length);
      this.#pattern = forms.length === 0 ? null : new RegExp(forms.map(escapeRegExp).join('|'), 'g');
      this.#isDirty = false;
    }
    return this.#pattern;
  }
}

/** The forms a secret commonly takes when it leaves a process. */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = bytes.toString('base64');
  const uriUpper = encodeURIComponent(secret);
  return [
    secret,
    base64,
    base64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    uriUpper,
    uriUpper.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    uriUpper.replace(/%20/g, '+'),
    JSON.stringify(secret).slice(1, -1),
  ];
}

function looksLikeToken(token: string): boolean {
  return token.length >= 16 || (token.length >= 8 && /[^A-Za-z]/.test(token));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
