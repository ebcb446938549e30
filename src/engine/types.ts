/**
 * The interfaces the engine talks through. Adapters (Slack, terminal) implement `Adapter`
 * and hand the engine `Turn`s; they never see the model, and the engine never sees Slack.
 */
import type { Approval } from '../human/types.ts';

/** Where a conversation happens. Its identity is the whole tuple, never the thread alone. */
export interface ConversationRef {
  platform: 'slack' | 'terminal';
  /** Slack team (workspace) id; 'local' for the terminal. */
  team: string;
  channel: string;
  /** Thread root (Slack thread_ts); the terminal uses a fixed id per chat. */
  thread: string;
}

/** One inbound message for the engine. */
export interface Turn {
  conversation: ConversationRef;
  /** Who sent it (Slack user id, or the local user name). */
  user: string;
  text: string;
  /** False for unattended turns: gated calls are then denied at once. */
  canAskHuman: boolean;
  /** When the message was sent (Slack ts), for the stale-message note. */
  sentAt?: Date;
  /** Extra context blocks for the model (thread history, notes), already wrapped if untrusted. */
  context?: string[];
  /** True when `context` carries untrusted content (taints the session). */
  hasUntrustedContext?: boolean;
  /**
   * Who sent the untrusted content in `context`: sender ids (`U999`, `B123 (bot)`,
   * `unknown sender`), never message text. Recorded as the session's taint sources and shown
   * to approvers.
   */
  untrustedSources?: string[];
  /** Adapter-private reference to the inbound message (e.g. the Slack message ts), opaque here. */
  origin?: string;
}

/** Where a notice goes: a conversation's channel and thread. */
export interface NoticePlace {
  channel: string;
  thread: string;
}

/** A tool call the engine reports to the adapter as it happens (for progress display). */
export interface ToolActivity {
  tool: string;
  phase: 'started' | 'succeeded' | 'failed' | 'not_run';
  detail?: string;
}

/** What every adapter provides. */
export interface Adapter {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Post the final reply of a turn. */
  reply(turn: Turn, text: string): Promise<void>;
  /**
   * Show a pending approval to humans. The decision comes back later, by approval id,
   * through `Engine.decide` (or from another process through the database), never through
   * this promise.
   */
  requestApproval(approval: Approval, turn: Turn): Promise<void>;
  /** Show an approval's current (usually final) state: decided, running, outcome. */
  showDecision(approval: Approval): Promise<void>;
  /** Optional progress display. */
  showActivity?(turn: Turn, activity: ToolActivity): void;
  /**
   * Optional: enrich a turn just before it starts (e.g. read the thread it was asked in). Runs
   * once per turn, also when the turn starts after a restart.
   */
  prepareTurn?(turn: Turn): Promise<Turn>;
  /** Optional: a turn ended (answered or not), e.g. to swap a status reaction. */
  turnFinished?(turn: Turn, status: string): void;
  /**
   * Optional: a short plain message in a conversation, when a restart or a decision made
   * elsewhere changed something there ("expired while mithai was down").
   */
  notice?(place: NoticePlace, text: string): Promise<void>;
}
