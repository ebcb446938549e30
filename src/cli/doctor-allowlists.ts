/**
 * `mithai doctor`: what `adapter.slack.allowed_users`, `allowed_channels` and `human.approvers`
 * mean, in words, with a warning when a list admits everyone or nobody, when approvers contains
 * `*`, and for every rule that never changes an outcome. The rule itself is in
 * src/security/allowlist.ts and docs/security.md.
 */
import { analyzeList, decide, type ListAnalysis, type ListKind, type ListRule, type RedundantRule } from '../security/allowlist.ts';
import type { Config } from '../config/schema.ts';
import type { Check } from './doctor-checks.ts';

interface ListSpec {
  key: string;
  kind: ListKind;
  patterns: readonly string[];
  /** The warning for an empty list (the wording `doctor` always used). */
  whenEmpty: string;
  whenEveryone: string;
  whenNobody: string;
}

/** Checks for the three pattern lists; `explain` ids get a sentence each about how they fare. */
export function allowlistChecks(config: Config, explain: readonly string[] = []): Check[] {
  const specs: ListSpec[] = [
    {
      key: 'adapter.slack.allowed_users',
      kind: 'allowlist',
      patterns: config.adapter.slack.allowed_users,
      whenEmpty: 'is empty: everyone in the workspace can talk to the agent',
      whenEveryone: 'everyone in the workspace can talk to the agent',
      whenNobody: 'nobody can talk to the agent',
    },
    {
      key: 'adapter.slack.allowed_channels',
      kind: 'allowlist',
      patterns: config.adapter.slack.allowed_channels,
      whenEmpty: 'is empty: the agent answers in every channel it is in',
      whenEveryone: 'the agent answers in every channel it is in',
      whenNobody: 'the agent answers in no channel (direct messages only)',
    },
    {
      key: 'human.approvers',
      kind: 'approvers',
      patterns: config.human.approvers,
      whenEmpty: 'is empty: only the requester can approve their own calls',
      whenEveryone: 'anyone in the workspace can approve anyone\u2019s calls',
      whenNobody: 'only the requester can approve their own calls',
    },
  ];
  return specs.flatMap((s) => listChecks(s, explain));
}

function listChecks(spec: ListSpec, explain: readonly string[]): Check[] {
  const analysis = analyzeList(spec.patterns, spec.kind);
  const ids = explain.map((id) => explainId(id, analysis)).join('');
  if (analysis.list.empty) return [{ status: 'warn', text: `${spec.key} ${spec.whenEmpty}${ids}` }];
  const out: Check[] = [];
  const summary = `${spec.key}: ${describe(analysis)}`;
  if (analysis.admits === 'everyone') out.push({ status: 'warn', text: `${summary}: ${spec.whenEveryone}${ids}` });
  else if (analysis.admits === 'nobody') out.push({ status: 'warn', text: `${summary}: ${spec.whenNobody}${ids}` });
  else out.push({ status: 'ok', text: `${summary}${analysis.admits === 'unknown' ? ' (too many rules to check for ones that never decide)' : ''}${ids}` });
  for (const position of analysis.list.ignored) {
    out.push({ status: 'warn', text: `${spec.key}: rule ${position} ${JSON.stringify(spec.patterns[position - 1])} is empty and ignored` });
  }
  for (const r of analysis.redundant) out.push({ status: 'warn', text: `${spec.key}: ${redundantText(r, analysis)}` });
  const star = analysis.simplified.find((r) => !r.exclude && r.pattern === '*');
  if (spec.kind === 'approvers' && star && analysis.admits !== 'everyone') {
    out.push({ status: 'warn', text: `${spec.key}: rule ${star.position} * lets anyone not excluded after it approve anyone\u2019s calls` });
  }
  return out;
}

/** The effective rule in words: who is admitted by default and what each group of rules adds or removes. */
export function describe(analysis: ListAnalysis): string {
  const { list, admits } = analysis;
  const prefix = list.kind === 'approvers' ? 'besides the requester, ' : '';
  if (admits === 'everyone') return `${prefix}everyone`;
  if (admits === 'nobody') return list.kind === 'approvers' ? 'nobody besides the requester' : 'nobody';
  const rules = analysis.simplified;
  const groups: ListRule[][] = [];
  for (const r of rules) {
    const last = groups.at(-1);
    if (last && last[0]!.exclude === r.exclude) last.push(r);
    else groups.push([r]);
  }
  const parts: string[] = [];
  let startsFromAll = false;
  groups.forEach((g, i) => {
    const everyone = i === 0 && !g[0]!.exclude && g.some((r) => r.pattern === '*');
    if (everyone) {
      startsFromAll = true;
      parts.push('everyone');
    } else if (i === 0) parts.push(g[0]!.exclude ? `nobody (${names(g)} removed)` : `only ${names(g)}`);
    else parts.push(g[0]!.exclude ? `except ${names(g)}` : `but again ${names(g)}`);
  });
  const implied = rules[0]?.position === 0;
  const byDefault = implied
    ? 'rule 1 is an exclusion, so ids no rule names are admitted'
    : startsFromAll
      ? undefined
      : 'ids no rule names are refused';
  const tail = [byDefault, groups.length > 2 ? 'later rules win' : undefined].filter(Boolean).join('; ');
  const text = parts[0] === 'everyone' && parts.length > 1 ? `everyone ${parts.slice(1).join(', ')}` : parts.join(', ');
  return `${prefix}${text}${tail ? ` (${tail})` : ''}`;
}

function names(rules: ListRule[]): string {
  const ps = rules.filter((r) => !(r.pattern === '*' && !r.exclude)).map((r) => r.pattern);
  return ps.length <= 1 ? (ps[0] ?? '') : `${ps.slice(0, -1).join(', ')} and ${ps.at(-1)}`;
}

function ruleName(r: ListRule): string {
  return `rule ${r.position} ${r.exclude ? '!' : ''}${r.pattern}`;
}

function redundantText(r: RedundantRule, analysis: ListAnalysis): string {
  const also = r.startsFromEveryone ? ' (but as the first rule it makes the list start from everyone: write * first if you remove it)' : '';
  if (r.reason === 'shadowed') {
    const later = r.by.map(ruleName).join(', ');
    return `${ruleName(r.rule)} never decides: every id it names is decided again by ${later}${also}`;
  }
  const now = r.rule.exclude ? 'refused' : 'admitted';
  const start = analysis.list.kind === 'approvers' && r.rule.exclude ? ' (an approver list starts from nobody)' : '';
  return `${ruleName(r.rule)} changes nothing: every id it names is already ${now} at that point${start}${also}`;
}

function explainId(id: string, analysis: ListAnalysis): string {
  const verdict = decide(id, analysis.list);
  const approvers = analysis.list.kind === 'approvers';
  const outcome = approvers ? (verdict.admitted ? 'is an approver' : 'is not an approver') : verdict.admitted ? 'is admitted' : 'is refused';
  if (analysis.list.empty) return `; ${id} ${outcome} because the list is empty`;
  if (verdict.by === undefined || verdict.by.position === 0) return `; ${id} ${outcome} because no rule names it`;
  return `; ${id} ${outcome} by ${ruleName(verdict.by)}`;
}
