/**
 * The approval lifecycle as one table: every allowed move from one state to another, the audit
 * record it writes, and what the model is told once the call is settled. The gate refuses any
 * move that is not in {@link TRANSITIONS}; the store, the cards, the terminal and the docs use
 * these names and nothing else.
 *
 * | from      | to        | audit event · decision · status | who moves it                           |
 * |-----------|-----------|---------------------------------|----------------------------------------|
 * | (new)     | pending   | requested · – · pending         | a gated call is opened                 |
 * | pending   | approved  | decision · approved · pending   | a permitted person approves            |
 * | pending   | denied    | decision · denied · not_run     | a permitted person denies              |
 * | pending   | expired   | decision · expired · not_run    | the deadline passes (timer, sweep, boot)|
 * | pending   | cancelled | decision · cancelled · not_run  | the card could not be shown; chat input ended |
 * | approved  | executing | (none: the decision record holds)| the dispatcher claims it, once          |
 * | approved  | cancelled | decision · cancelled · not_run  | re-check at dispatch failed; validity window passed |
 * | executing | succeeded | outcome · approved · succeeded  | the handler returned                   |
 * | executing | failed    | outcome · approved · failed     | the handler threw                      |
 * | executing | unknown   | outcome · approved · unknown    | timed out, or the process died while it ran |
 */
import type { AuditDecision, AuditEvent, AuditStatus } from '../audit/types.ts';
import type { ApprovalState } from './types.ts';

/** One allowed move. */
export interface Transition {
  from: ApprovalState;
  to: ApprovalState;
  /** The audit record this move writes, or null when the previous record already covers it. */
  audit: { event: AuditEvent; decision: AuditDecision; status: AuditStatus } | null;
}

/** Every allowed move, in lifecycle order. */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'pending', to: 'approved', audit: { event: 'decision', decision: 'approved', status: 'pending' } },
  { from: 'pending', to: 'denied', audit: { event: 'decision', decision: 'denied', status: 'not_run' } },
  { from: 'pending', to: 'expired', audit: { event: 'decision', decision: 'expired', status: 'not_run' } },
  { from: 'pending', to: 'cancelled', audit: { event: 'decision', decision: 'cancelled', status: 'not_run' } },
  { from: 'approved', to: 'executing', audit: null },
  { from: 'approved', to: 'cancelled', audit: { event: 'decision', decision: 'cancelled', status: 'not_run' } },
  { from: 'executing', to: 'succeeded', audit: { event: 'outcome', decision: 'approved', status: 'succeeded' } },
  { from: 'executing', to: 'failed', audit: { event: 'outcome', decision: 'approved', status: 'failed' } },
  { from: 'executing', to: 'unknown', audit: { event: 'outcome', decision: 'approved', status: 'unknown' } },
];

/** The move from `from` to `to`, or undefined when the lifecycle does not allow it. */
export function transitionOf(from: ApprovalState, to: ApprovalState): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.to === to);
}

/** States nothing leaves. */
export const FINAL: ReadonlySet<ApprovalState> = new Set(['denied', 'expired', 'cancelled', 'succeeded', 'failed', 'unknown']);

/** True when the call of an approval in this state never ran and never will. */
export function isNotRun(state: ApprovalState): boolean {
  return state === 'denied' || state === 'expired' || state === 'cancelled';
}

/** Where a decision came from, shown on the card and stored with the row. */
export type DecisionSource = 'slack' | 'terminal' | 'cli' | 'system';
