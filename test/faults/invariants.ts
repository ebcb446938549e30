/**
 * What must hold after any crash, once the project has been restarted and driven to the end:
 * - double executions: a tool ran more often than approved calls of it were claimed, or ran
 *   without an `approved` decision record in the audit;
 * - lost records: an approval's `requested`, decision or outcome record is missing from
 *   memory/approvals.json (or `mithai audit verify` fails for anything but a torn tail);
 * - duplicate records: the same decision (or outcome) recorded twice for one approval;
 * - cards left live without a decision: a card offers buttons while its approval row is no
 *   longer pending;
 * - silent threads: a mention that never became a turn, a turn that never finished, or a
 *   finished turn whose reply is not in its thread;
 * - other: anything else that lies (a pending approval nobody can see or click, a card whose
 *   text says another state than its row, a second card for one approval, a row stuck in
 *   approved/executing, a start or stop that failed).
 *
 * Each scenario records what it found in the suite's report (MITHAI_FAULTS_REPORT, written by
 * scripts/run-faults.mjs), so the runner can print one line per category and the totals.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ApprovalRow, FaultProject, RunningMithai } from './fault-harness.ts';
import { botTexts, cardsIn, clickApprove, poll, stopGracefully, turnThread } from './fault-harness.ts';

/** Kinds of violation, as counted in the totals line. */
export const KINDS = ['doubleExecutions', 'lostRecords', 'duplicateRecords', 'liveCards', 'silentThreads', 'other'] as const;
export type Kind = (typeof KINDS)[number];

/** One violation, with enough words to find it. */
export interface Finding {
  kind: Kind;
  message: string;
}

/** States of an approval whose call was claimed (started). */
const CLAIMED = new Set(['executing', 'succeeded', 'failed', 'unknown']);

/** The words a final card must show for its row's state. */
const CARD_WORDS: Record<string, RegExp> = {
  succeeded: /succeeded/,
  failed: /failed/,
  denied: /Denied by/,
  expired: /Expired at/,
  cancelled: /Cancelled/,
  unknown: /Outcome unknown/,
};

/** The tool and input an effects.log line stands for. */
function effectKey(line: string): string | undefined {
  const restart = /^restart (\S+)$/.exec(line);
  if (restart) return `ops__restart ${restart[1]}`;
  if (line === 'slow started') return 'ops__slow';
  const drop = /^drop (\S+)$/.exec(line);
  if (drop) return `ops__drop_db ${drop[1]}`;
  return undefined;
}

function approvalKey(tool: string, inputJson: string): string {
  let input: Record<string, unknown> = {};
  try {
    input = JSON.parse(inputJson) as Record<string, unknown>;
  } catch {
    // An unreadable input keys as the bare tool.
  }
  if (tool === 'ops__restart') return `ops__restart ${String(input.service)}`;
  if (tool === 'ops__drop_db') return `ops__drop_db ${String(input.name)}`;
  return tool;
}

/** The decision records each state needs (a cancelled row with a decider was approved first). */
function expectedDecisions(row: ApprovalRow): string[] {
  switch (row.state) {
    case 'pending':
      return [];
    case 'approved':
    case 'executing':
    case 'succeeded':
    case 'failed':
    case 'unknown':
      return ['approved'];
    case 'cancelled':
      return row.decider === null ? ['cancelled'] : ['approved', 'cancelled'];
    default:
      return [row.state];
  }
}

/** Everything that is wrong with the project now. `threads`: the mentions' ts. */
export function findViolations(p: FaultProject, threads: readonly string[], options: { final?: boolean } = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (kind: Kind, message: string): void => {
    findings.push({ kind, message });
  };
  const approvals = p.approvals();
  const audit = p.audit();
  const effects = p.effects();

  // Executions: at most once per claimed approved call, and only with an approved decision record.
  const ran = new Map<string, number>();
  for (const line of effects) {
    const key = effectKey(line);
    if (key !== undefined) ran.set(key, (ran.get(key) ?? 0) + 1);
  }
  for (const [key, count] of ran) {
    const rows = approvals.filter((a) => approvalKey(a.tool, a.input_json) === key);
    const claimed = rows.filter((a) => CLAIMED.has(a.state)).length;
    const approvedRecords = audit.filter((r) => r.event === 'decision' && r.decision === 'approved' && rows.some((a) => a.id === r.approval_id)).length;
    const allowed = Math.min(claimed, approvedRecords);
    if (count > allowed) add('doubleExecutions', `${key} ran ${count} time(s), but ${claimed} approval(s) were claimed and ${approvedRecords} approved decision record(s) exist`);
  }

  // Audit records of every approval: one requested, the decisions its state needs, one outcome.
  for (const row of approvals) {
    const records = audit.filter((r) => r.approval_id === row.id);
    const count = (event: string, field: string, value: string): number => records.filter((r) => r.event === event && r[field] === value).length;
    const requested = records.filter((r) => r.event === 'requested').length;
    if (requested === 0) add('lostRecords', `${row.id} (${row.state}): no requested record`);
    if (requested > 1) add('duplicateRecords', `${row.id}: ${requested} requested records`);
    const wanted = expectedDecisions(row);
    for (const decision of ['approved', 'denied', 'expired', 'cancelled']) {
      const n = count('decision', 'decision', decision);
      const want = wanted.filter((d) => d === decision).length;
      if (n < want) add('lostRecords', `${row.id} (${row.state}): no ${decision} decision record`);
      if (n > want && want > 0) add('duplicateRecords', `${row.id} (${row.state}): ${n} ${decision} decision records`);
      if (n > 0 && want === 0) add('other', `${row.id} (${row.state}): has a ${decision} decision record its state does not explain`);
    }
    const outcomes = records.filter((r) => r.event === 'outcome');
    if (['succeeded', 'failed', 'unknown'].includes(row.state)) {
      const matching = outcomes.filter((r) => r.status === row.state).length;
      if (matching === 0) add('lostRecords', `${row.id} (${row.state}): no outcome record`);
      if (outcomes.length > 1) add('duplicateRecords', `${row.id} (${row.state}): ${outcomes.length} outcome records`);
    } else if (outcomes.length > 0) {
      add('other', `${row.id} (${row.state}): has an outcome record but never finished`);
    }
    if (options.final && (row.state === 'approved' || row.state === 'executing')) add('other', `${row.id}: left ${row.state} (never ran nor was settled)`);
  }

  // Cards: buttons exactly while the row is pending, a final card says the row's state.
  const allThreads = new Set([...threads, ...approvals.map((a) => a.thread)]);
  for (const thread of allThreads) {
    const shown = cardsIn(p, thread);
    for (const card of shown) {
      const row = approvals.find((a) => a.id === card.approvalId);
      if (row === undefined) {
        add('other', `card ${card.ts} in ${thread} names no approval row (${card.approvalId ?? 'no id'})`);
        continue;
      }
      const live = card.buttons.length > 0;
      if (live && row.state !== 'pending') add('liveCards', `card of ${row.id} still has buttons ${card.buttons.join(',')} but the row is ${row.state}`);
      if (!live && row.state === 'pending') add('other', `card of ${row.id} has no buttons but the row is pending`);
      const words = CARD_WORDS[row.state];
      if (words && !words.test(card.text)) add('other', `card of ${row.id} does not say ${row.state}: ${card.text.split('\n')[0]}`);
    }
    for (const row of approvals.filter((a) => a.thread === thread)) {
      const n = shown.filter((c) => c.approvalId === row.id).length;
      if (n > 1) add('other', `${row.id} has ${n} cards`);
      // A settled approval whose card was never posted only needs its thread told (checked below).
      if (n === 0 && row.state === 'pending') add('other', `${row.id} is pending, but no card for it was ever posted (nobody can decide it in Slack)`);
    }
  }

  // Threads: every mention became a turn, every turn finished, and its reply is in its thread.
  const turns = p.turns();
  for (const thread of threads) {
    const mine = turns.filter((t) => turnThread(t) === thread);
    if (mine.length === 0) {
      add('silentThreads', `thread ${thread}: the mention never became a turn`);
      continue;
    }
    const texts = botTexts(p, thread).map(normalise);
    for (const turn of mine) {
      if (turn.state !== 'done') {
        // A turn waiting on a live card is not silent: the card is its message.
        const waitingOnCard = turn.state === 'waiting' && approvals.some((a) => a.turn_id === turn.id && a.state === 'pending') && !options.final;
        if (!waitingOnCard) add('silentThreads', `thread ${thread}: turn ${turn.id} is ${turn.state}, not done`);
        continue;
      }
      const wanted = normalise(turn.reply ?? '').slice(0, 24);
      if (!texts.some((text) => text.includes(wanted))) add('silentThreads', `thread ${thread}: the reply of ${turn.id} (${(turn.reply ?? '').slice(0, 60)}) was never posted`);
    }
  }
  return findings;
}

function normalise(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '');
}

/**
 * Drive a project to its end: click Approve on every card that offers it (once per card per
 * process), until nothing is wrong any more or `timeoutMs` passes. @returns what is still wrong.
 */
export async function driveToEnd(p: FaultProject, run: RunningMithai, threads: readonly string[], timeoutMs = 20_000): Promise<Finding[]> {
  const clicked = new Set<string>();
  let last: Finding[] = [];
  const settled = await poll(() => {
    if (!run.isDone()) {
      for (const thread of new Set([...threads, ...p.approvals().map((a) => a.thread)])) {
        for (const card of cardsIn(p, thread)) {
          if (clicked.has(card.ts) || !card.buttons.includes('mithai_approve')) continue;
          clicked.add(card.ts);
          void clickApprove(p, card);
        }
      }
    }
    last = findViolations(p, threads, { final: true });
    return last.length === 0;
  }, timeoutMs, 50);
  return settled ? [] : last;
}

/** What one scenario did and found. */
export interface ScenarioReport {
  category: string;
  name: string;
  /** The named crash point (src/fault-point.ts) it killed at, if any. */
  point?: string;
  /** Kills it made (a fault point reached, or a SIGKILL from outside). */
  kills: number;
  /** `mithai run` processes it started. */
  runs: number;
  findings: Finding[];
  /** Facts worth printing that are not violations (a reply posted twice after reply.posted). */
  notes: string[];
}

/**
 * Stop the project's serving process (SIGTERM, exit 0 expected), check everything once more
 * (plus `mithai audit verify`), record the scenario in the report and fail the test on any
 * violation (keeping the project directory and the logs for a look).
 */
export async function finishScenario(
  t: TestContext,
  p: FaultProject,
  run: RunningMithai | undefined,
  report: Omit<ScenarioReport, 'findings' | 'runs' | 'notes'> & { threads: readonly string[]; findings?: Finding[]; notes?: string[] },
): Promise<void> {
  const findings: Finding[] = [...(report.findings ?? [])];
  const notes = [...(report.notes ?? [])];
  if (run !== undefined && !run.isDone()) {
    const exit = await stopGracefully(run);
    if (exit.code !== 0) findings.push({ kind: 'other', message: `mithai run #${run.n} exited ${exit.code ?? exit.signal} on SIGTERM: ${run.stderr().slice(-500)}` });
  }
  for (const f of findViolations(p, report.threads, { final: true })) {
    if (!findings.some((g) => g.message === f.message)) findings.push(f);
  }
  const verify = await p.cli(['audit', 'verify']);
  if (verify.code !== 0) {
    if (/torn/i.test(verify.stderr)) notes.push(`audit verify named a torn tail: ${verify.stderr.trim()}`);
    else findings.push({ kind: 'lostRecords', message: `mithai audit verify exited ${verify.code}: ${verify.stderr.trim() || verify.stdout.trim()}` });
  }
  for (const thread of report.threads) {
    const texts = botTexts(p, thread);
    const told = texts.filter((x) => x.startsWith('Told'));
    const turns = p.turns().filter((turn) => turnThread(turn) === thread).length;
    if (told.length > turns) notes.push(`thread ${thread}: ${told.length} final replies for ${turns} turn(s) (a reply posted again after a restart)`);
  }
  const full: ScenarioReport = {
    category: report.category, name: report.name, ...(report.point === undefined ? {} : { point: report.point }), kills: report.kills, runs: p.runs.length, findings, notes,
  };
  writeReport(full);
  for (const note of notes) t.diagnostic(`${report.name}: note: ${note}`);
  if (findings.length > 0) {
    p.keep();
    for (const f of findings) t.diagnostic(`${report.name}: VIOLATION [${f.kind}] ${f.message}`);
    t.diagnostic(`${report.name}: project and logs kept in ${p.dir}`);
  }
  assert.deepEqual(findings, [], `${report.name}: ${findings.length} violation(s); project kept in ${p.dir}`);
}

/** Append one scenario to the suite's report (when run through scripts/run-faults.mjs). */
export function writeReport(report: ScenarioReport): void {
  const dir = process.env.MITHAI_FAULTS_REPORT;
  if (!dir) return;
  appendFileSync(join(dir, `report-${process.pid}.jsonl`), `${JSON.stringify(report)}\n`);
}
