/**
 * Pattern lists for `adapter.slack.allowed_users`, `allowed_channels` and `human.approvers`.
 *
 * A rule is an exact id (`U123`), a wildcard (`U12*`, `C0?`, `*`), or an exclusion
 * (`!U666`, `!C*`). Rules are applied in order and later rules win, so
 * `['*', '!U666']` is everyone but U666, and `['!U*', 'U1']` is U1 only.
 * The starting state is "allowed" when the first rule is an exclusion (so `['!U666']` alone
 * means everyone but U666) and "not allowed" otherwise. Matching is case-sensitive: Slack ids
 * are upper case, and a looser match must never let an id through by accident.
 */

/** Whether `id` passes an allowlist (`allowed_users`, `allowed_channels`). An empty list allows everyone. */
export function matchesAllowlist(id: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return evaluate(id, patterns);
}

/**
 * Whether `id` matches a pattern list where an empty list means *nobody* (`human.approvers`):
 * an approver list left empty must not make everyone an approver.
 */
export function matchesAnyPattern(id: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return false;
  // Unlike an allowlist, a list of approvers never starts from "everyone": `['!U666']` grants
  // approval rights to nobody, not to the whole workspace but one person.
  return evaluate(id, patterns, false);
}

function evaluate(id: string, patterns: readonly string[], startFromExclusion = true): boolean {
  const rules = patterns.map(parseRule).filter((r): r is Rule => r !== undefined);
  // Only blank entries: the operator wrote *something*, so do not read it as the empty list
  // (which, for an allowlist, means everyone). Fail closed: nothing matches.
  if (rules.length === 0) return false;
  let allowed = startFromExclusion && rules[0]!.isExclusion;
  for (const rule of rules) {
    if (rule.regex.test(id)) allowed = !rule.isExclusion;
  }
  return allowed;
}

interface Rule {
  isExclusion: boolean;
  regex: RegExp;
}

function parseRule(raw: string): Rule | undefined {
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  const isExclusion = trimmed.startsWith('!');
  const body = isExclusion ? trimmed.slice(1).trim() : trimmed;
  return { isExclusion, regex: globToRegExp(body) };
}

/** `*` = any run of characters, `?` = exactly one; everything else literal; anchored. */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}
