/**
 * `mithai approvals approve|deny|show`: decisions from the command line — break-glass when Slack
 * is down, and proof that a decision can come from any process. The decision goes through the
 * same gate and approver rules as a click, as the local operator (`local:<os user>`, an identity
 * `human.approvers` can list); it is durable when the command returns, and the serving
 * `mithai run` (or `mithai chat`) picks it up from the database within about a second and
 * carries the turn on. No process lock is taken: the gate's conditional update makes two
 * processes deciding at once produce one decision and one audit record.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLog, readAuditFile } from '../audit/audit-log.ts';
import { systemClock } from '../clock.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { ConfigError, errorMessage } from '../errors.ts';
import { ApprovalGate } from '../human/approval-gate.ts';
import { fingerprint } from '../human/fingerprint.ts';
import { describeTaint } from '../human/taint.ts';
import type { Approval, Decision } from '../human/types.ts';
import { Redactor } from '../security/redactor.ts';
import { showInvisible } from '../security/show-invisible.ts';
import { ApprovalStore } from '../state/approval-store.ts';
import { AuditStore } from '../state/audit-store.ts';
import { openDatabase } from '../state/database.ts';

/**
 * The OS account running this process, by its uid (never `$USER`: the environment is whatever
 * the caller sets, and the second-person rules must tell two people apart).
 */
export function localLogin(): string {
  return userInfo().username;
}

/** The local operator's decider identity. */
export function localDecider(): string {
  return `local:${localLogin()}`;
}

/** What a CLI decision printed and its exit code. */
export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Decide approval `id` as the local operator.
 * @throws ConfigError for a missing state database.
 */
export function decideFromCli(loaded: LoadedConfig, id: string, decision: Decision, options: { phrase?: string; reason?: string }): CliOutcome {
  const { config } = loaded;
  const redactor = new Redactor(loaded.secrets);
  const db = openDatabase(config.state.path);
  try {
    const store = new ApprovalStore(db);
    const audit = AuditLog.open(join(config.memory.path, 'approvals.json'), { redactor, store: new AuditStore(db) });
    const gate = new ApprovalGate({
      store,
      audit,
      clock: systemClock,
      timeoutSeconds: config.human.timeout_seconds,
      approvedValidSeconds: config.human.approval_valid_seconds,
      approvers: config.human.approvers,
      confirmRequiresSecondPerson: config.human.confirm_requires_second_person,
      taintedRequiresSecondPerson: config.human.tainted_requires_second_person,
      logger: pino({ level: 'silent' }),
    });
    const decider = localDecider();
    const approval = gate.get(id);
    if (approval === undefined) return { code: 1, stdout: '', stderr: `mithai: no approval ${id}; \`mithai approvals list\` shows them\n` };
    if (decision === 'approve' && approval.level === 'confirm' && options.phrase === undefined) {
      return { code: 1, stdout: '', stderr: `mithai: ${id} is a confirm call: pass --phrase "${redactor.redact(approval.confirmPhrase ?? '')}" to approve it\n` };
    }
    let shown: string;
    try {
      // The same tripwire as a click: the row's fingerprint must be the one of its stored input.
      shown = fingerprint(approval.tool, JSON.parse(approval.inputJson));
    } catch {
      return { code: 1, stdout: '', stderr: `mithai: approval ${id} has an unreadable input; nothing was decided\n` };
    }
    const result = gate.decide(id, decider, decision, {
      via: 'cli',
      fingerprint: shown,
      ...(options.phrase === undefined ? {} : { typedPhrase: options.phrase }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
    if (!result.ok) return { code: 1, stdout: '', stderr: `mithai: ${redactor.redact(plain(result.message))}\n` };
    const verb = decision === 'approve' ? 'Approved' : 'Denied';
    return {
      code: 0,
      stdout: `${verb} ${id} (${result.approval.tool}) as ${decider}. A running mithai picks the decision up within a second and carries the turn on; otherwise the next start does.\n`,
      stderr: '',
    };
  } finally {
    db.close();
  }
}

/** `mithai approvals show ID`: the call, its input (redacted), who asked, any untrusted content, state, history. */
export function showApproval(loaded: LoadedConfig, id: string): CliOutcome {
  const { config } = loaded;
  const redactor = new Redactor(loaded.secrets);
  const db = openDatabase(config.state.path);
  let approval: Approval | undefined;
  try {
    approval = new ApprovalStore(db).get(id);
  } finally {
    db.close();
  }
  if (approval === undefined) return { code: 1, stdout: '', stderr: `mithai: no approval ${id}; \`mithai approvals list\` shows them\n` };
  const shown = (text: string): string => showInvisible(redactor.redact(text));
  let input: string;
  try {
    input = JSON.stringify(redactor.redactDeep(JSON.parse(approval.inputJson)), null, 2);
  } catch {
    input = approval.inputJson;
  }
  const lines = [
    `${approval.id}  ${approval.tool}  (${approval.level}: ${approval.levelReason})`,
    // Right under the call: the content that may have asked for it (ids and tool names only).
    ...(approval.taint.length > 0
      ? [`  untrusted   ⚠ untrusted content was in this conversation when it was requested: ${shown(describeTaint(approval.taint))}. It may have asked for this call: check the input before approving.`]
      : []),
    `  state       ${approval.state}`,
    `  requested   by ${approval.requester} at ${approval.createdAt}; decide by ${approval.deadline}`,
    `  where       channel ${approval.channel}, thread ${approval.thread}`,
    ...(approval.decider ? [`  decided     by ${approval.decider}${approval.decidedVia ? ` (${approval.decidedVia})` : ''} at ${approval.decidedAt}`] : []),
    ...(approval.reason ? [`  reason      ${shown(approval.reason)}`] : []),
    ...(approval.outcome ? [`  outcome     ${shown(approval.outcome)}`] : []),
    ...(approval.level === 'confirm' ? [`  phrase      ${shown(approval.confirmPhrase ?? '')}`] : []),
    '  input',
    ...shown(input).split('\n').map((l) => `    ${l}`),
    '  history (memory/approvals.json)',
    ...history(join(config.memory.path, 'approvals.json'), id).map((l) => `    ${shown(l)}`),
  ];
  return { code: 0, stdout: `${lines.join('\n')}\n`, stderr: '' };
}

/** The audit records of one approval, one line each. */
function history(path: string, id: string): string[] {
  try {
    const out: string[] = [];
    for (const line of readAuditFile(path).lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.approval_id !== id) continue;
      const parts = [String(record.time), String(record.event), record.decision ?? '', record.status ?? '', record.decider ? `by ${String(record.decider)}` : '', record.reason ? `(${String(record.reason)})` : ''];
      out.push(`#${String(record.seq)} ${parts.filter((p) => p !== '').join(' ')}`);
    }
    return out.length > 0 ? out : ['(no records)'];
  } catch (err) {
    return [`(could not read the audit log: ${errorMessage(err)})`];
  }
}

/** Slack mrkdwn in a refusal (`<@U1>`, backticks) as plain terminal text. */
function plain(text: string): string {
  return text.replace(/<@([^>|]+)(?:\|[^>]*)?>/g, '$1').replace(/`/g, '"');
}

/** Refuse an empty approval id with a clear message. */
export function requireId(id: string | undefined): string {
  if (!id || id.trim() === '') throw new ConfigError('an approval id is required (see `mithai approvals list`)');
  return id.trim();
}
