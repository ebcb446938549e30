/**
 * The cross-check behind `mithai audit verify`: the audit file against the state database.
 *
 * The chain on the file alone cannot show records cut off its end, or a file rewritten with
 * fresh hashes. The database keeps its own copy of every record (the outbox the file is
 * flushed from) and the approvals themselves, so comparing the three names what the chain
 * cannot: records the file lost, lines that differ from what was committed, records the
 * database never committed, and approvals whose state the log does not back up (or
 * contradicts).
 */
import { parseRecordLine } from './audit-chain.ts';
import type { AuditFileContents } from './audit-file.ts';
import { EMPTY_AUDIT_HEAD, RECORD_BATCH, seqRange } from './audit-outbox.ts';
import type { ApprovalStateRow, AuditStore } from '../state/audit-store.ts';

/** Stable codes of {@link AuditProblem}. */
export type AuditProblemCode =
  /** The file lacks records at its end that the database says were written to it. */
  | 'audit_tail_missing'
  /** There is no file, but the database says records were written to it. */
  | 'audit_file_missing'
  /** A line of the file differs from the database's record at that seq. */
  | 'audit_replaced'
  /** The file has records the database never committed. */
  | 'audit_ahead'
  /** The database's copy of the chain has a hole. */
  | 'audit_db_inconsistent'
  /** An approval's state needs a record the log does not have. */
  | 'approval_not_logged'
  /** The log has a decision or outcome for an approval that its row does not reflect. */
  | 'approval_log_disagrees';

/** One disagreement, in words, with the seq or approval it concerns. */
export interface AuditProblem {
  code: AuditProblemCode;
  message: string;
  /** The (first) seq concerned, when the problem is about records. */
  seq?: number;
  /** The approval concerned, when the problem is about an approval. */
  approvalId?: string;
}

/** The result of {@link crossCheckAudit}. */
export interface AuditCrossCheck {
  /** True when there are no problems. */
  ok: boolean;
  problems: AuditProblem[];
  /** Complete records in the file. */
  fileRecords: number;
  /** Records in the database. */
  databaseRecords: number;
  /** Records committed but not yet flushed to the file (not a problem: the next flush writes them). */
  unflushed: number;
  /** Approval rows checked. */
  approvals: number;
}

/** At most this many differing lines are named one by one. */
const MAX_LISTED = 20;

/** What a record says about an approval (the fields the cross-check reads). */
interface ApprovalFact {
  seq: number;
  event: string;
  approvalId: string;
  decision: string | null;
  status: string | null;
}

/**
 * Compare the audit file with the state database.
 *
 * @param file The file, as {@link readAuditFile} read it (a torn tail is not counted; the
 *   chain check reports it).
 * @param store The database's audit outbox.
 * @param approvals Every approval's id and state; default: read through `store`.
 * @returns every problem found, each named; `ok` when there are none.
 */
export function crossCheckAudit(file: AuditFileContents, store: AuditStore, approvals: readonly ApprovalStateRow[] = store.approvalStates()): AuditCrossCheck {
  const problems: AuditProblem[] = [];
  const head = store.head() ?? EMPTY_AUDIT_HEAD;
  const n = file.lines.length;
  const databaseRecords = store.count();
  const facts: ApprovalFact[] = [];

  if (!file.exists && head.flushedSeq > 0) {
    problems.push({ code: 'audit_file_missing', seq: 1, message: `the audit file is missing, but the state database says records ${seqRange(1, head.flushedSeq)} were written to it` });
  }
  // Line by line against the database's copy; collect approval facts from the database's
  // records (the source of truth, including records not flushed yet).
  let differing = 0;
  for (let from = 1; from <= head.seq; from += RECORD_BATCH) {
    const rows = store.recordsFrom(from, Math.min(RECORD_BATCH, head.seq - from + 1));
    for (let seq = from; seq < from + RECORD_BATCH && seq <= head.seq; seq++) {
      const row = rows[seq - from];
      if (row?.seq !== seq) {
        problems.push({ code: 'audit_db_inconsistent', seq, message: `the state database has no audit record at seq ${seq} although its chain head is at seq ${head.seq}` });
        return finish();
      }
      const fact = factOf(row.line, seq);
      if (fact !== undefined) facts.push(fact);
      if (seq > n) continue;
      if (file.lines[seq - 1] !== row.line) {
        differing++;
        if (differing <= MAX_LISTED) {
          problems.push({ code: 'audit_replaced', seq, message: `audit file line ${seq} differs from the record the state database committed at seq ${seq} (hash ${row.hash}): the file was replaced or edited` });
        }
      }
    }
  }
  if (differing > MAX_LISTED) {
    problems.push({ code: 'audit_replaced', message: `and ${differing - MAX_LISTED} more lines differ from the state database` });
  }
  if (n > head.seq) {
    problems.push({ code: 'audit_ahead', seq: head.seq + 1, message: `the audit file has records ${seqRange(head.seq + 1, n)} that the state database never committed (its chain ends at seq ${head.seq})` });
  }
  if (file.exists && n < head.flushedSeq) {
    problems.push({ code: 'audit_tail_missing', seq: n + 1, message: `the audit file ends at seq ${n}, but the state database says records up to seq ${head.flushedSeq} were written to it: records ${seqRange(n + 1, head.flushedSeq)} are missing from its end` });
  }
  if (head.seq === 0) {
    // A project from before the database kept the chain: the file is all there is.
    file.lines.forEach((line, i) => {
      const fact = factOf(line, i + 1);
      if (fact !== undefined) facts.push(fact);
    });
  }
  problems.push(...checkApprovals(facts, approvals));
  return finish();

  function finish(): AuditCrossCheck {
    return { ok: problems.length === 0, problems, fileRecords: n, databaseRecords, unflushed: Math.max(0, head.seq - Math.max(n, head.flushedSeq)), approvals: approvals.length };
  }
}

/** The decision each approval state needs as the log's last decision (null: none yet). */
const EXPECTED_DECISION: Readonly<Record<string, string | null>> = {
  pending: null,
  approved: 'approved',
  executing: 'approved',
  succeeded: 'approved',
  failed: 'approved',
  unknown: 'approved',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
};

/** Decisions that may appear for an approval in each state (an approved call may be cancelled before it starts). */
const ALLOWED_DECISIONS: Readonly<Record<string, readonly string[]>> = {
  pending: [],
  approved: ['approved'],
  executing: ['approved'],
  succeeded: ['approved'],
  failed: ['approved'],
  unknown: ['approved'],
  denied: ['denied'],
  expired: ['expired'],
  cancelled: ['approved', 'cancelled'],
};

/** States that need an outcome record with that status. */
const OUTCOME_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'unknown']);

/**
 * Each approval row against its records, and each decision/outcome record of a known
 * approval against its row. Records of ids with no row (auto calls, whose approval_id is the
 * call id, and unattended denials) are skipped: there is nothing to compare them with.
 */
function checkApprovals(facts: readonly ApprovalFact[], approvals: readonly ApprovalStateRow[]): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const byId = new Map<string, ApprovalFact[]>();
  for (const fact of facts) {
    const list = byId.get(fact.approvalId);
    if (list === undefined) byId.set(fact.approvalId, [fact]);
    else list.push(fact);
  }
  for (const { id, state } of approvals) {
    const records = byId.get(id) ?? [];
    const decisions = records.filter((r) => r.event === 'decision');
    const outcomes = records.filter((r) => r.event === 'outcome');
    const notLogged = (what: string): void => {
      problems.push({ code: 'approval_not_logged', approvalId: id, message: `approval ${id} is ${state} in the state database, but the audit log has no ${what} for it` });
    };
    const disagrees = (fact: ApprovalFact, what: string): void => {
      problems.push({ code: 'approval_log_disagrees', approvalId: id, seq: fact.seq, message: `approval ${id}: the audit log records ${what} (seq ${fact.seq}), but the state database says it is ${state}` });
    };
    if (!(state in EXPECTED_DECISION)) {
      problems.push({ code: 'approval_log_disagrees', approvalId: id, message: `approval ${id} has state ${JSON.stringify(state)} in the state database, which this mithai does not know` });
      continue;
    }
    if (state === 'pending' && !records.some((r) => r.event === 'requested')) notLogged('requested record');
    const allowed = ALLOWED_DECISIONS[state]!;
    for (const d of decisions) if (d.decision === null || !allowed.includes(d.decision)) disagrees(d, `the decision ${d.decision ?? 'null'}`);
    const expected = EXPECTED_DECISION[state]!;
    if (expected !== null && decisions[decisions.length - 1]?.decision !== expected && !decisions.some((d) => !allowed.includes(d.decision ?? ''))) {
      notLogged(`decision ${expected} record`);
    }
    const wantOutcome = OUTCOME_STATES.has(state) ? state : null;
    for (const o of outcomes) if (o.status !== wantOutcome) disagrees(o, `the outcome ${o.status ?? 'null'}`);
    if (wantOutcome !== null && !outcomes.some((o) => o.status === wantOutcome)) notLogged(`outcome ${wantOutcome} record`);
  }
  return problems;
}

/** The approval fields of a record line, or undefined for system records and non-records. */
function factOf(line: string, seq: number): ApprovalFact | undefined {
  const parsed = parseRecordLine(line);
  if (!parsed.ok) return undefined;
  const { record } = parsed;
  if (record.event !== 'requested' && record.event !== 'decision' && record.event !== 'outcome') return undefined;
  if (typeof record.approval_id !== 'string') return undefined;
  return {
    seq,
    event: record.event,
    approvalId: record.approval_id,
    decision: typeof record.decision === 'string' ? record.decision : null,
    status: typeof record.status === 'string' ? record.status : null,
  };
}
