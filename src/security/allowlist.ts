/**
 * Pattern lists for `adapter.slack.allowed_users`, `allowed_channels` (allowlists) and
 * `human.approvers`. The rule, as documented in docs/security.md ("Pattern lists"):
 *
 * 1. Each entry is trimmed. `!P` is an exclusion of pattern `P` (`! P` too); anything else is an
 *    inclusion. An entry that is blank, or `!` with nothing after it, is ignored.
 * 2. A pattern matches the whole id, case-sensitively: `*` is any run of characters (also none),
 *    `?` exactly one character, every other character is literal.
 * 3. An empty list admits everyone (allowlists) / nobody (approvers: only the requester decides).
 *    A list with entries that are all ignored admits nobody (fail closed).
 * 4. An allowlist whose first (non-ignored) rule is an exclusion reads as if `*` came before it:
 *    `['!U666']` is everyone but U666. An approver list never starts from everyone.
 * 5. Otherwise an id starts refused; each rule that matches it, in order, admits it (inclusion) or
 *    refuses it (exclusion). The last matching rule wins.
 *
 * {@link analyzeList} works out exactly what a list admits (for `mithai doctor`): whether it
 * admits everyone or nobody, and which rules never change the outcome.
 */

export type ListKind = 'allowlist' | 'approvers';

/** One effective rule of a list. */
export interface ListRule {
  /** 1-based position in the configured list; 0 for the `*` implied by a leading exclusion. */
  position: number;
  exclude: boolean;
  /** The pattern without `!` and surrounding whitespace. */
  pattern: string;
}

/** A list read by the rule above. */
export interface ParsedList {
  kind: ListKind;
  /** The configured list has no entries at all. */
  empty: boolean;
  /** 1-based positions of ignored entries (blank, or a lone `!`). */
  ignored: number[];
  /** The effective rules in order, starting with the implied `*` when there is one. */
  rules: ListRule[];
}

/** The rule that decided an id, if any, and the outcome. */
export interface Verdict {
  admitted: boolean;
  /** The last rule that matched (possibly the implied `*`); undefined when none did or the list is empty. */
  by?: ListRule;
}

/** Whether `id` passes an allowlist (`allowed_users`, `allowed_channels`). An empty list allows everyone. */
export function matchesAllowlist(id: string, patterns: readonly string[]): boolean {
  return decide(id, parseList(patterns, 'allowlist')).admitted;
}

/**
 * Whether `id` matches a pattern list where an empty list means *nobody* (`human.approvers`):
 * an approver list left empty must not make everyone an approver, and a list that starts with
 * an exclusion (`['!U666']`) grants approval rights to nobody, not to everyone but one person.
 */
export function matchesAnyPattern(id: string, patterns: readonly string[]): boolean {
  return decide(id, parseList(patterns, 'approvers')).admitted;
}

/** Read a configured list into its effective rules. */
export function parseList(patterns: readonly string[], kind: ListKind): ParsedList {
  const ignored: number[] = [];
  const rules: ListRule[] = [];
  patterns.forEach((raw, i) => {
    const trimmed = raw.trim();
    const exclude = trimmed.startsWith('!');
    const pattern = (exclude ? trimmed.slice(1) : trimmed).trim();
    if (pattern === '') ignored.push(i + 1);
    else rules.push({ position: i + 1, exclude, pattern });
  });
  if (kind === 'allowlist' && rules[0]?.exclude) rules.unshift({ position: 0, exclude: false, pattern: '*' });
  return { kind, empty: patterns.length === 0, ignored, rules };
}

/** Decide `id` against a parsed list. */
export function decide(id: string, list: ParsedList): Verdict {
  if (list.empty) return { admitted: list.kind === 'allowlist' };
  let verdict: Verdict = { admitted: false };
  for (const rule of list.rules) {
    if (globMatches(rule.pattern, id)) verdict = { admitted: !rule.exclude, by: rule };
  }
  return verdict;
}

/** Whether `pattern` (`*` any run, `?` one character, the rest literal) matches the whole of `id`. */
export function globMatches(pattern: string, id: string): boolean {
  return globToRegExp(pattern).test(id);
}

const regexCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = regexCache.get(glob);
  if (re) return re;
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  re = new RegExp(`^${source}$`, 'su');
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(glob, re);
  return re;
}

// ---------------------------------------------------------------------------------------------
// Exact analysis. Every rule's pattern is a tiny automaton; running all of them together over an
// alphabet of the literal characters they use plus one "other" character visits every
// combination of rules that some non-empty id matches at once (ids are never empty). Whether a
// list admits everyone, or a rule ever changes an outcome, follows from those combinations.

/** What a list admits, exactly, over every possible non-empty id. */
export interface ListAnalysis {
  list: ParsedList;
  /** `unknown` only when the list is too large to analyse (the state limit was hit). */
  admits: 'everyone' | 'nobody' | 'some' | 'unknown';
  /**
   * Configured rules that never change an outcome, found one at a time (each is redundant given
   * the ones reported before it were removed, so removing all of them keeps the meaning, as long
   * as a removed leading exclusion is replaced by `*`; see {@link RedundantRule.startsFromEveryone}).
   */
  redundant: RedundantRule[];
  /** The effective rules without the redundant ones: same meaning as the list. */
  simplified: ListRule[];
}

export interface RedundantRule {
  rule: ListRule;
  /**
   * `shadowed`: every id it matches is matched again by a later rule, which decides instead.
   * `no-op`: it sets ids it matches to what they already were.
   */
  reason: 'shadowed' | 'no-op';
  /** For `shadowed`: the later rules that match ids it matches (among the rules still kept). */
  by: ListRule[];
  /** It is the leading exclusion that makes an allowlist start from everyone. */
  startsFromEveryone: boolean;
}

const OTHER = '<other>'; // longer than one character, so no literal token ever equals it
const STATE_LIMIT = 20000;

type Token = { kind: 'star' } | { kind: 'one' } | { kind: 'lit'; ch: string };

function tokenize(pattern: string): Token[] {
  return [...pattern].map((ch): Token => (ch === '*' ? { kind: 'star' } : ch === '?' ? { kind: 'one' } : { kind: 'lit', ch }));
}

function closure(tokens: Token[], positions: Iterable<number>): number[] {
  const out = new Set<number>();
  for (let p of positions) {
    out.add(p);
    while (p < tokens.length && tokens[p]!.kind === 'star') out.add(++p);
  }
  return [...out].sort((a, b) => a - b);
}

function step(tokens: Token[], positions: number[], ch: string): number[] {
  const next: number[] = [];
  for (const p of positions) {
    const t = tokens[p];
    if (t === undefined) continue;
    if (t.kind === 'star') next.push(p);
    else if (t.kind === 'one' || t.ch === ch) next.push(p + 1);
  }
  return closure(tokens, next);
}

/**
 * The distinct sets of rules (as strings of '0'/'1', one per rule) that some non-empty id matches
 * all at once; undefined when the state limit is hit.
 */
export function matchCombinations(patterns: readonly string[]): Set<string> | undefined {
  const automata = patterns.map(tokenize);
  const alphabet = new Set<string>([OTHER]);
  for (const a of automata) for (const t of a) if (t.kind === 'lit') alphabet.add(t.ch);
  const start = automata.map((a) => closure(a, [0]));
  const seen = new Set<string>([JSON.stringify(start)]);
  const queue: number[][][] = [start];
  const combos = new Set<string>();
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const ch of alphabet) {
      const next = state.map((positions, i) => step(automata[i]!, positions, ch));
      if (next.every((p) => p.length === 0)) {
        combos.add('0'.repeat(automata.length));
        continue;
      }
      combos.add(next.map((p, i) => (p.includes(automata[i]!.length) ? '1' : '0')).join(''));
      const key = JSON.stringify(next);
      if (seen.has(key)) continue;
      if (seen.size >= STATE_LIMIT) return undefined;
      seen.add(key);
      queue.push(next);
    }
  }
  return combos;
}

/** Work out exactly what `patterns` admits when used as `kind`. */
export function analyzeList(patterns: readonly string[], kind: ListKind): ListAnalysis {
  const list = parseList(patterns, kind);
  if (list.empty) return { list, admits: kind === 'allowlist' ? 'everyone' : 'nobody', redundant: [], simplified: [] };
  const rules = list.rules;
  const combos = matchCombinations(rules.map((r) => r.pattern));
  if (combos === undefined) return { list, admits: 'unknown', redundant: [], simplified: rules };
  const matrix = [...combos].map((c) => [...c].map((b) => b === '1'));
  const outcome = (row: boolean[], kept: boolean[], upTo = rules.length): boolean => {
    for (let i = upTo - 1; i >= 0; i--) if (kept[i] && row[i]) return !rules[i]!.exclude;
    return false;
  };
  const kept = rules.map(() => true);
  const redundant: RedundantRule[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < rules.length; k++) {
      if (!kept[k] || rules[k]!.position === 0) continue;
      const without = kept.map((v, i) => v && i !== k);
      if (!matrix.every((row) => outcome(row, kept) === outcome(row, without))) continue;
      const rows = matrix.filter((row) => row[k]);
      const shadowed = rows.every((row) => row.some((m, i) => m && i > k && kept[i]));
      const by = shadowed ? rules.filter((_, i) => i > k && kept[i] && rows.some((row) => row[i])) : [];
      redundant.push({ rule: rules[k]!, reason: shadowed ? 'shadowed' : 'no-op', by, startsFromEveryone: kind === 'allowlist' && rules[k] === list.rules.find((r) => r.position > 0) && rules[k]!.exclude });
      kept[k] = false;
      changed = true;
    }
  }
  const results = matrix.map((row) => outcome(row, kept));
  const admits = results.every(Boolean) ? 'everyone' : results.some(Boolean) ? 'some' : 'nobody';
  return { list, admits, redundant, simplified: rules.filter((_, i) => kept[i]) };
}
