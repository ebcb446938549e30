/**
 * The words of the approval lifecycle, used the same in types, SQLite columns, audit fields,
 * card text and docs.
 *
 *   pending ─┬─> approved ──> executing ──> succeeded | failed
 *            │                     └──────> unknown   (crash during execution; never re-run)
 *            ├─> denied
 *            ├─> expired     (no decision by the deadline; never reported as denied)
 *            └─> cancelled   (shutdown, restart, turn aborted)
 */
import type { Level } from '../config/schema.ts';

/** Why a call has the level it has. */
export type LevelReason = 'declared' | 'default' | 'override' | 'dynamic' | 'taint' | 'fail_closed';

export type ApprovalState =
  | 'pending'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'executing'
  | 'succeeded'
  | 'failed'
  | 'unknown';

/** Every state, in lifecycle order. */
export const APPROVAL_STATES: readonly ApprovalState[] = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'executing', 'succeeded', 'failed', 'unknown'];

/**
 * What kind of untrusted content entered a session: the output (or the error text) of a tool
 * marked `untrustedOutput`, a thread message from someone outside the allowlist (or a bot, or
 * an unknown sender), or content recorded before mithai kept its source (`unrecorded`).
 */
export type TaintKind = 'tool_output' | 'tool_error' | 'thread_message' | 'unrecorded';

/**
 * One source of untrusted content in a session: a kind and where it came from — a tool name
 * (`http__http_get`) or a sender (`U999`, `B123 (bot)`, `unknown sender`), empty when unknown.
 * Ids and tool names only, never message text (see ./taint.ts, which cleans and clips it).
 */
export interface TaintSource {
  kind: TaintKind;
  source: string;
}

/** States from which nothing further happens. */
export const FINAL_STATES: ReadonlySet<ApprovalState> = new Set(['denied', 'expired', 'cancelled', 'succeeded', 'failed', 'unknown']);

/** One gated tool call, as persisted (one row per approval). */
export interface Approval {
  /** Schema version of this record. */
  version: 1;
  id: string;
  /** The model's tool_use id. */
  callId: string;
  sessionKey: string;
  tool: string;
  toolDescription: string;
  level: Exclude<Level, 'auto'>;
  levelReason: LevelReason;
  /** sha256 of tool name + canonical JSON input. */
  fingerprint: string;
  /** The validated input, as canonical JSON (internal state; redacted before it leaves). */
  inputJson: string;
  requester: string;
  channel: string;
  thread: string;
  /** Phrase a confirm approver must type (null for approve). */
  confirmPhrase: string | null;
  state: ApprovalState;
  createdAt: string;
  /** ISO time after which the approval can no longer be decided. */
  deadline: string;
  decider: string | null;
  decidedAt: string | null;
  /** Reason given with a deny, or why it was cancelled. */
  reason: string | null;
  /** Short outcome text once run (error message for failed). */
  outcome: string | null;
  finishedAt: string | null;
  /** Adapter-specific reference to where the approval is shown (e.g. Slack channel + ts), JSON. */
  displayRef: string | null;
  /** The durable turn this call belongs to (null for approvals opened outside a turn). */
  turnId: string | null;
  /** The state the display (card) last showed; differs from `state` until it is redrawn. */
  displayedState: ApprovalState | null;
  /** Where the decision came from (`slack`, `terminal`, `cli`, `system`). */
  decidedVia: string | null;
  /** ISO time after which an approved call that has not started may no longer start. */
  validUntil: string | null;
  /**
   * The untrusted content the session had taken in when the approval was opened (a snapshot;
   * empty: none). Non-empty, it is shown on the card and, with
   * `human.tainted_requires_second_person`, the requester cannot approve the call alone.
   */
  taint: TaintSource[];
}

export type Decision = 'approve' | 'deny';

/** Why decide() changed nothing. */
export type DecideRefusal = 'not_found' | 'not_permitted' | 'wrong_phrase' | 'already_decided' | 'expired';

export type DecideResult =
  | { ok: true; approval: Approval }
  | { ok: false; refusal: DecideRefusal; message: string; approval: Approval | undefined };

/** How a wait for a decision ended. */
export type WaitOutcome = 'approved' | 'denied' | 'expired' | 'cancelled';
