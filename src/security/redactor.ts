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

/**
 * The floor: known secret values shorter than this are not redacted (and `mithai doctor` names
 * the variables holding them, see `secretsTooShortToRedact`). Six characters, because:
 * - a shorter value (`admin`, `1234`, `prod`) occurs by chance all over ordinary output, so
 *   redacting it would wreck logs, cards and tool results;
 * - worse, that wreckage is itself a leak: a reader who sees every `prod` turned into
 *   `[REDACTED]` has learnt the secret, so redacting a very short value protects nothing;
 * - a value that short is guessable anyway; the fix is a longer secret, not redaction.
 * From six characters on, chance collisions are rare enough that a known secret is always
 * redacted, whatever its length, shape (digits only included) or the variable it came from.
 */
export const MIN_SECRET_LENGTH = 6;

/**
 * The least context kept beyond a cut (see `redactThenCut`): enough for every token shape below
 * to be seen whole when its redacted part starts before the cut (a URL's user info needs at
 * most ~520 characters after the scheme, an AWS key 20). Shapes of unbounded length (`sk-ant-…`,
 * a PEM block, `password=…`) still match, and are redacted to the end, when cut off.
 */
export const SHAPE_MARGIN = 1024;

// Longest encoded form of any secret any Redactor of this process has learnt: the margin a cut
// must keep so that a secret straddling the cut is still seen whole. Process-wide and only
// ever growing, so a cut through any redactor's plain `redact` function is safe (a margin too
// long costs a little time, never a leak).
let longestKnownForm = 0;

/**
 * How much text past a cut must be redacted with the text before it so that no known secret
 * or token shape straddling the cut survives in part: the longest known secret form, at least
 * {@link SHAPE_MARGIN}.
 */
export function redactionMargin(): number {
  return Math.max(SHAPE_MARGIN, longestKnownForm);
}

// Each pattern's first group is kept; the rest of the match becomes [REDACTED].
// The lookbehinds stop a shape from matching inside a longer word (`task-ant-` is not `sk-ant-`),
// but not after a JSON escape (`\nxoxb-…` in a log line is a token after a newline).
// Every pattern runs in time linear in its input (the redactor sits on every output path and
// sees adversarial tool output): a pattern only starts where a fixed literal or a run boundary
// is, repeats before a fixed delimiter are bounded or made atomic (`(?=(x+))\N`, JavaScript's
// atomic group), and no two adjacent repeats can trade characters with each other.
const SHAPES: readonly RegExp[] = [
  // A PEM private key block; a block cut off before its END line is redacted to the end.
  /()-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))sk-ant-[A-Za-z0-9_-]+/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))xox[abposr]-[A-Za-z0-9-]+/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))xapp-[A-Za-z0-9-]+/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))AKIA[0-9A-Z]{16}(?![0-9A-Z])/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))gh[pousr]_[A-Za-z0-9]{20,}/g,
  /()(?<![A-Za-z0-9](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))github_pat_[A-Za-z0-9_]+/g,
  // user:password@ in URLs; the user name is kept.
  // The scheme is a whole run of scheme characters, taken atomically, so the pattern starts only
  // at a run's start.
  /((?<![a-z0-9+.-])(?=([a-z0-9+.-]+))\2:\/\/[^\s/:@]{0,256}:)(?=([^\s/@]{1,256}))\3(?=@)/gi,
  // Authorization headers (`Authorization: Bearer x`, `"authorization":"Basic x"`), whatever the scheme.
  /(\bauthorization["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Bot|Digest)\s+)?)[^\s"',;]+/gi,
];

// password=..., token=..., api_key=..., X-Amz-Signature=... in URLs, query strings, env dumps:
// any `key=value` whose key (a whole run of key characters, so it starts only at a run's start)
// names a secret. The key is checked by a function, not by the pattern, which keeps it linear.
const KEY_VALUE = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+=)([^&\s"'#<>,;]+)/g;
const SECRET_KEY = /password|passwd|pwd|token|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|signature/i;
const PLACEHOLDER = /^(?:\.+|…)$/;

// `Bearer <token>` on its own (not in an Authorization header). Checked by a function so the
// prose "Bearer authentication" survives while real tokens (which have digits or punctuation,
// or are long) do not.
const BEARER = /(?<![A-Za-z0-9_](?<!\\[bfnrt]|\\u[0-9a-fA-F]{4}))(Bearer\s+)([A-Za-z0-9._~+/-]+=*)/gi;

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
        if (form.length > longestKnownForm) longestKnownForm = form.length;
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
    // A value of dots only is a placeholder (`put SLACK_APP_TOKEN=... in .env`), never a secret.
    out = out.replace(KEY_VALUE, (match, key: string, value: string) => (SECRET_KEY.test(key) && !PLACEHOLDER.test(value) ? `${key}${REDACTED}` : match));
    out = out.replace(BEARER, (match, prefix: string, token: string) => (looksLikeToken(token) ? `${prefix}${REDACTED}` : match));
    return out;
  }

  /**
   * A copy of `value` with every string inside it redacted: plain objects and arrays are walked,
   * object keys are redacted like values (a tool input `{ "<secret>": 1 }` is as much a leak as
   * `{ "x": "<secret>" }`), other values (numbers, Dates, class instances) are returned as they
   * are. Cycles are preserved rather than followed forever.
   *
   * Nothing is dropped: when a redacted key equals a key already in the copy (two secrets, or a
   * secret and a literal `[REDACTED]`), it gets a ` (2)`, ` (3)`, … suffix. Keys are copied as
   * own properties, so a `__proto__` key stays data.
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
    for (const [key, item] of Object.entries(value)) {
      const redactedKey = this.redact(key);
      let name = redactedKey;
      for (let n = 2; Object.hasOwn(copy, name); n += 1) name = `${redactedKey} (${n})`;
      Object.defineProperty(copy, name, { value: this.#deep(item, seen), enumerable: true, writable: true, configurable: true });
    }
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
    // As a JSON string, and as that inside JSON again (a response body in an error's text, a
    // JSON config in a tool's stdout, in a JSON log line): each level escapes the last.
    ...jsonEscapes(secret, 3),
  ];
}

/** `secret` JSON-escaped once, twice, … `levels` times (only the forms that differ). */
function jsonEscapes(secret: string, levels: number): string[] {
  const forms: string[] = [];
  let form = secret;
  for (let i = 0; i < levels; i++) {
    const next = JSON.stringify(form).slice(1, -1);
    if (next === form) break;
    forms.push(next);
    form = next;
  }
  return forms;
}

function looksLikeToken(token: string): boolean {
  return token.length >= 16 || (token.length >= 8 && /[^A-Za-z]/.test(token));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
