/**
 * `mithai chat`: the engine in a terminal. Replies and tool activity are printed; an `approve`
 * call asks y/n, a `confirm` call asks for the phrase. Piped stdin works the same way, line by
 * line, so scripts can answer approvals. The local user is both requester and decider, and the
 * gate still checks that against `human.approvers` and the second-person rules
 * (`confirm_requires_second_person`, `tainted_requires_second_person`). When a rule means the
 * user cannot approve the call, the prompt says so before asking, offers only to deny it, and
 * names the way another person can approve it (`mithai approvals approve ID`); meanwhile the
 * call waits, and a decision made elsewhere ends the prompt.
 *
 * Only a clear answer decides: `y`/`yes` approves, `n`/`no`/`deny` (or an empty line, the
 * `[y/N]` default) denies, and anything else ("maybe") decides nothing and asks again, until
 * the deadline or the end of input.
 */
import type { Writable } from 'node:stream';
import type { Adapter, NoticePlace, ToolActivity, Turn } from '../../engine/types.ts';
import type { Approval, DecideResult, Decision, WaitOutcome } from '../../human/types.ts';
import type { LineReader } from './line-reader.ts';
import { errorMessage } from '../../errors.ts';
import { describeApproval, describeState } from './approval-text.ts';
import type { StatusLine } from './status-line.ts';

/** The part of the approval gate the terminal needs. */
export interface TerminalDecisions {
  decide(id: string, decider: string, decision: Decision, options?: { typedPhrase?: string; reason?: string }): DecideResult;
  /** Resolves once the approval is settled (or `signal` aborts). */
  wait(id: string, signal?: AbortSignal): Promise<WaitOutcome>;
  cancel(id: string, reason: string): unknown;
  /**
   * Why `decider` may not make `decision` on the approval now, or undefined when they may
   * (`Engine.checkDecider`). Without it, the prompt learns only from the refused answer.
   */
  check?(approval: Approval, decider: string, decision: Decision): string | undefined;
}

export interface TerminalAdapterOptions {
  lines: LineReader;
  output: Writable;
  /** The local user: requester of every turn and decider of every answer typed here. */
  user: string;
  botName: string;
  decisions: TerminalDecisions;
  /** True on a TTY: type-ahead is discarded before each approval question. */
  interactive: boolean;
  /** Aborted on Ctrl-C / SIGTERM: the input closing then does not cancel a pending approval. */
  stopSignal?: AbortSignal;
  redact(text: string): string;
  /** The spinner while a turn works (./status-line.ts); cleared before anything is printed. */
  status?: StatusLine;
}

export class TerminalAdapter implements Adapter {
  readonly name = 'terminal';
  readonly #o: TerminalAdapterOptions;
  /** Prompts still running, so `stop()` can wait for them. */
  readonly #prompts = new Set<Promise<void>>();
  /** The tail of the queue of approval questions (asked one after the other). */
  #queue: Promise<void> = Promise.resolve();
  #cancelledForNoAnswer = 0;

  constructor(options: TerminalAdapterOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await Promise.allSettled([...this.#prompts]);
  }

  /**
   * How many gated calls this adapter cancelled because input ended before an answer (piped
   * `mithai chat` exits non-zero for them).
   */
  get cancelledForNoAnswer(): number {
    return this.#cancelledForNoAnswer;
  }

  async reply(_turn: Turn, text: string): Promise<void> {
    this.#o.status?.stop();
    this.#print(`${this.#o.botName}> ${text}`);
  }

  showActivity(_turn: Turn, activity: ToolActivity): void {
    const detail = activity.detail ? `: ${activity.detail}` : '';
    this.#print(`  [tool] ${activity.tool} ${activity.phase}${detail}`);
  }

  async requestApproval(approval: Approval): Promise<void> {
    // One question at a time: with two open, the next line typed would answer whichever asked
    // first, not the one last on screen. Each request is shown and asked when its turn comes.
    // The answer is read in the background: the decision comes back through the engine, and the
    // prompt gives up as soon as the approval settles some other way (expiry, cancellation).
    const prompt = this.#queue
      .then(async () => {
        // No spinner over the question: it is suspended while a person is asked.
        const release = this.#o.status?.suspend();
        try {
          this.#print(describeApproval(approval, this.#o.redact));
          await this.#ask(approval);
        } finally {
          release?.();
        }
      })
      .finally(() => this.#prompts.delete(prompt));
    this.#queue = prompt.catch(() => undefined);
    this.#prompts.add(prompt);
  }

  async notice(_place: NoticePlace, text: string): Promise<void> {
    this.#print(`  ${text}`);
  }

  async showDecision(approval: Approval): Promise<void> {
    this.#print(`  ${describeState(approval)}`);
  }

  async #ask(approval: Approval): Promise<void> {
    const settled = new AbortController();
    // wait() only rejects when a cancellation cannot be audited; the engine's own wait reports that.
    this.#o.decisions.wait(approval.id).then(
      () => settled.abort(),
      () => settled.abort(),
    );
    // Lines typed while the turn was running were not answers to this request: a "y" typed
    // ahead must never approve a call its author had not seen yet.
    if (this.#o.interactive) this.#o.lines.discardQueued();
    const isConfirm = approval.level === 'confirm';
    const cannotApprove = this.#o.decisions.check?.(approval, this.#o.user, 'approve');
    let question = isConfirm
      ? `Type "${approval.confirmPhrase}" to run it, or "n" to deny: `
      : 'Approve? [y/N] (or "n <reason>" to deny with a reason): ';
    if (cannotApprove !== undefined) {
      this.#print(`  You cannot approve this call yourself. ${plain(cannotApprove)}`);
      const phrase = isConfirm ? ` --phrase "${approval.confirmPhrase ?? ''}"` : '';
      this.#print(`  Someone else can approve it from a shell in this project: mithai approvals approve ${approval.id}${phrase} (it decides as local:<their login>, which human.approvers must list).`);
      question = 'Type "n" (or "n <reason>") to deny it, or leave this waiting for another approver: ';
    }
    for (;;) {
      this.#print(question, false);
      const line = await this.#o.lines.next(settled.signal);
      if (line === null) {
        // Input ended (piped stdin ran out): nobody is left to answer, so do not hold the
        // turn until the deadline. Cancelled, not denied: no person decided. A signal (Ctrl-C,
        // SIGTERM) is not the end of input: the approval stays pending for `--session` to resume.
        const isStopped = this.#o.stopSignal?.aborted === true;
        if (this.#o.lines.isDone && !settled.signal.aborted && !isStopped) {
          if (this.#o.decisions.cancel(approval.id, 'input ended before an answer') !== undefined) this.#cancelledForNoAnswer++;
        }
        return;
      }
      const answer = line.trim();
      const denial = /^(n|no|deny)(\s+(.*))?$/i.exec(answer);
      if (cannotApprove !== undefined && !denial) {
        // Only a denial can be decided here; anything else leaves the call waiting (nothing decided).
        this.#print('  Nothing was decided; the call waits for another approver (or its deadline).');
        continue;
      }
      if (!isConfirm && !denial && answer !== '' && !/^(y|yes)$/i.test(answer)) {
        // Not a clear yes or no ("maybe", "ok?"): deciding either way would guess. Fail closed
        // by deciding nothing, and ask again; the deadline or the end of input still ends it.
        question = `${this.#lineBreak()}  Nothing was decided: answer "y" to approve or "n" to deny (or "n <reason>"): `;
        continue;
      }
      let result: DecideResult;
      try {
        result = this.#decide(approval, answer, denial, isConfirm);
      } catch (err) {
        // The decision could not be audited, so it was not taken; say so instead of crashing.
        this.#print(`  Your answer could not be recorded (${errorMessage(err)}); nothing was decided.`);
        return;
      }
      if (result.ok) return;
      if (result.refusal !== 'wrong_phrase') {
        this.#print(`  ${result.message}`);
        return;
      }
      // One line says what went wrong and asks again (the gate's own message would be a second).
      question = `${this.#lineBreak()}  That does not match; nothing ran. Type "${approval.confirmPhrase}" to run it, or "n" to deny: `;
    }
  }

  /**
   * One clear answer line as a decision: a denial (an empty line is the `[y/N]` default), the
   * typed phrase of a confirm call, or a yes. Unclear answers never get here (see #ask).
   */
  #decide(approval: Approval, answer: string, denial: RegExpExecArray | null, isConfirm: boolean): DecideResult {
    const { decisions, user } = this.#o;
    if (denial) return decisions.decide(approval.id, user, 'deny', { reason: denial[3]?.trim() || undefined });
    if (isConfirm) return decisions.decide(approval.id, user, 'approve', { typedPhrase: answer });
    // Only an explicit yes approves; anything else that got here (the empty line) is a no.
    if (/^(y|yes)$/i.test(answer)) return decisions.decide(approval.id, user, 'approve');
    return decisions.decide(approval.id, user, 'deny');
  }

  /** Piped input is not echoed, so a question asked again starts a line of its own. */
  #lineBreak(): string {
    return this.#o.interactive ? '' : '\n';
  }

  #print(text: string, newline = true): void {
    this.#o.status?.clear();
    this.#o.output.write(this.#o.redact(text) + (newline ? '\n' : ''));
  }
}

/** Slack mrkdwn in a refusal (`<@U1>`, backticks) as plain terminal text. */
function plain(text: string): string {
  return text.replace(/<@([^>|]+)(?:\|[^>]*)?>/g, '$1').replace(/`/g, '"');
}
