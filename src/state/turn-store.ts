/**
 * Durable turns: one row per accepted inbound message, and one row per tool_use of the
 * assistant message the turn is answering. A turn's progress is these rows, never a promise,
 * so a decision (or a restart) can carry any turn on from any process.
 *
 * Turn states:
 *   accepted ──> running ──> waiting ──> running ──> replying ──> done
 *   (queued behind an earlier unfinished turn of the same session while accepted)
 * Call states: open (not dispatched) → gated (an approval row holds it) | executing (an auto
 * call running) → answered (its tool_result is known).
 */
import { StateError, errorMessage } from '../errors.ts';
import { inWriteTransaction } from './database.ts';
import type { Database } from './database.ts';

/** Record version of turn rows written by this code. */
export const TURN_VERSION = 1;

export type TurnState = 'accepted' | 'running' | 'waiting' | 'replying' | 'done';
export type CallState = 'open' | 'gated' | 'executing' | 'answered';

const TURN_STATES: ReadonlySet<string> = new Set<TurnState>(['accepted', 'running', 'waiting', 'replying', 'done']);
const CALL_STATES: ReadonlySet<string> = new Set<CallState>(['open', 'gated', 'executing', 'answered']);

/** A turn as persisted. `turn` is the engine's Turn, stored as JSON by the caller's shape. */
export interface TurnRecord {
  id: string;
  sessionKey: string;
  platform: string;
  /** The engine's Turn value (JSON). */
  turnJson: string;
  state: TurnState;
  iterations: number;
  toolCalls: number;
  tokens: number;
  cutRecoveries: number;
  /** Per-turn nonce for untrusted wrappers (kept so results stay consistent across resumes). */
  nonce: string;
  /** The TurnResult status once decided. */
  status: string | null;
  /** The reply text once decided (state replying/done). */
  reply: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One tool_use of the assistant message a turn is answering. */
export interface CallRecord {
  turnId: string;
  position: number;
  callId: string;
  name: string;
  /** The model's input, as JSON. */
  inputJson: string;
  state: CallState;
  approvalId: string | null;
  /** The tool_result block once answered (JSON). */
  resultJson: string | null;
  /** Whether the result brought untrusted content in. */
  tainted: boolean;
}

/** A call as the model asked for it, before it is stored (see {@link TurnStore.setCalls}). */
export type NewCall = Pick<CallRecord, 'callId' | 'name' | 'inputJson'> & Partial<Pick<CallRecord, 'state' | 'resultJson'>>;

/** The records {@link TurnStore.setCalls} stores for `calls`, exactly as listCalls reads them back. */
export function newCallRecords(turnId: string, calls: readonly NewCall[]): CallRecord[] {
  return calls.map((call, position) => ({
    turnId,
    position,
    callId: call.callId,
    name: call.name,
    inputJson: call.inputJson,
    state: call.state ?? 'open',
    approvalId: null,
    resultJson: call.resultJson ?? null,
    tainted: false,
  }));
}

/** Counters a turn step updates. */
export type TurnCounters = Partial<Pick<TurnRecord, 'iterations' | 'toolCalls' | 'tokens' | 'cutRecoveries'>>;

interface TurnRow {
  id: string;
  version: number;
  session_key: string;
  platform: string;
  turn_json: string;
  state: string;
  iterations: number;
  tool_calls: number;
  tokens: number;
  cut_recoveries: number;
  nonce: string;
  status: string | null;
  reply: string | null;
  created_at: string;
  updated_at: string;
}

interface CallRow {
  turn_id: string;
  position: number;
  call_id: string;
  name: string;
  input_json: string;
  state: string;
  approval_id: string | null;
  result_json: string | null;
  tainted: number;
}

/** Persisted turns and their open calls. */
export class TurnStore {
  readonly #db: Database;
  readonly #now: () => string;

  /** @param db An open state database. @param now ISO time source for timestamps. */
  constructor(db: Database, now: () => string = () => new Date().toISOString()) {
    this.#db = db;
    this.#now = now;
  }

  /** Insert a new turn in state `accepted`. @throws StateError when the id exists. */
  create(turn: Pick<TurnRecord, 'id' | 'sessionKey' | 'platform' | 'turnJson' | 'nonce'>): TurnRecord {
    const now = this.#now();
    try {
      this.#db
        .prepare('INSERT INTO turns (id, version, session_key, platform, turn_json, state, nonce, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(turn.id, TURN_VERSION, turn.sessionKey, turn.platform, turn.turnJson, 'accepted', turn.nonce, now, now);
    } catch (err) {
      throw new StateError(`turn ${turn.id} could not be recorded: ${errorMessage(err)}`, { cause: err });
    }
    return this.get(turn.id)!;
  }

  /** @returns The turn, or undefined. @throws StateError for an unknown version or state. */
  get(id: string): TurnRecord | undefined {
    const row = this.#db.prepare<[string], TurnRow>('SELECT * FROM turns WHERE id = ?').get(id);
    return row === undefined ? undefined : fromTurnRow(row);
  }

  /**
   * Move a turn to `state`, optionally setting counters, status and reply. The state is written
   * by a statement of its own that changes nothing when the turn is in that state already: a
   * column in an UPDATE's SET list has its index entry rewritten even when the value stays, and
   * most commits of a turn leave it `running` (one page less in each of them).
   */
  update(id: string, state: TurnState, fields: TurnCounters & { status?: string; reply?: string; turnJson?: string } = {}): void {
    const sets = ['updated_at = @now'];
    const params: Record<string, unknown> = { id, now: this.#now() };
    const columns: Record<string, string> = { iterations: 'iterations', toolCalls: 'tool_calls', tokens: 'tokens', cutRecoveries: 'cut_recoveries', status: 'status', reply: 'reply', turnJson: 'turn_json' };
    for (const [field, column] of Object.entries(columns)) {
      const value = (fields as Record<string, unknown>)[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${column}`);
      params[column] = value;
    }
    // One commit for both (a savepoint inside the caller's transaction): outside one, each
    // statement would commit, and wait for the disk, on its own.
    inWriteTransaction(this.#db, () => {
      this.#db.prepare(`UPDATE turns SET ${sets.join(', ')} WHERE id = @id`).run(params);
      this.#db.prepare('UPDATE turns SET state = ? WHERE id = ? AND state != ?').run(state, id, state);
    });
  }

  /**
   * Unfinished turns (not done), in arrival order; of one platform when given. Arrival order is
   * the insertion order (rowid), never the wall clock, which can step back.
   * @throws StateError when a row is unreadable (use {@link listUnfinishedIds} to go row by row).
   */
  listUnfinished(platform?: string): TurnRecord[] {
    return this.listUnfinishedIds(platform).map((id) => this.get(id)).filter((r): r is TurnRecord => r !== undefined);
  }

  /** Ids of unfinished turns in arrival order (no row is parsed, so a damaged one cannot hide the rest). */
  listUnfinishedIds(platform?: string): string[] {
    const rows = platform === undefined
      ? this.#db.prepare<[], { id: string }>("SELECT id FROM turns WHERE state != 'done' ORDER BY rowid").all()
      : this.#db.prepare<[string], { id: string }>("SELECT id FROM turns WHERE state != 'done' AND platform = ? ORDER BY rowid").all(platform);
    return rows.map((r) => r.id);
  }

  /** Ids of the unfinished turns of one session, in arrival order. */
  listUnfinishedIdsInSession(sessionKey: string): string[] {
    return this.#db
      .prepare<[string], { id: string }>("SELECT id FROM turns WHERE state != 'done' AND session_key = ? ORDER BY rowid")
      .all(sessionKey)
      .map((r) => r.id);
  }

  /** Unfinished turns of one session, in arrival order. @throws StateError for an unreadable row. */
  listUnfinishedInSession(sessionKey: string): TurnRecord[] {
    return this.listUnfinishedIdsInSession(sessionKey).map((id) => this.get(id)).filter((r): r is TurnRecord => r !== undefined);
  }

  /** The platform a turn belongs to, read without parsing the rest of the row. */
  platformOf(id: string): string | undefined {
    return this.#db.prepare<[string], { platform: string }>('SELECT platform FROM turns WHERE id = ?').get(id)?.platform;
  }

  /** The session a turn belongs to, read without parsing the rest of the row. */
  sessionOf(id: string): string | undefined {
    return this.#db.prepare<[string], { session_key: string }>('SELECT session_key FROM turns WHERE id = ?').get(id)?.session_key;
  }

  /**
   * Take a turn whose row cannot be read out of the queue (state done, status internal_error),
   * so it neither blocks its thread nor stops a start. The row stays for inspection.
   */
  quarantine(id: string): void {
    this.#db.prepare("UPDATE turns SET state = 'done', status = 'internal_error', updated_at = ? WHERE id = ?").run(this.#now(), id);
  }

  /** Replace the turn's open calls with the tool_use blocks of a new assistant message. */
  setCalls(turnId: string, calls: readonly NewCall[]): void {
    this.#db.prepare('DELETE FROM turn_calls WHERE turn_id = ?').run(turnId);
    const insert = this.#db.prepare('INSERT INTO turn_calls (turn_id, position, call_id, name, input_json, state, result_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const call of newCallRecords(turnId, calls)) insert.run(turnId, call.position, call.callId, call.name, call.inputJson, call.state, call.resultJson);
  }

  /** Whether the turn has call rows (the calls of the assistant message it is answering). */
  hasCalls(turnId: string): boolean {
    return this.#db.prepare<[string], { one: number }>('SELECT 1 AS one FROM turn_calls WHERE turn_id = ? LIMIT 1').get(turnId) !== undefined;
  }

  /** The turn's calls in the model's order. */
  listCalls(turnId: string): CallRecord[] {
    return this.#db.prepare<[string], CallRow>('SELECT * FROM turn_calls WHERE turn_id = ? ORDER BY position').all(turnId).map(fromCallRow);
  }

  /**
   * Move one call on. `inputJson` replaces the stored input (an answered call's input, redacted:
   * it is never run again, so it need not stay exact).
   */
  updateCall(turnId: string, position: number, state: CallState, fields: { approvalId?: string; resultJson?: string; tainted?: boolean; inputJson?: string } = {}): void {
    // approval_id is set only when given: naming it in the SET list rewrites its index entry (see update).
    const setApproval = fields.approvalId === undefined ? '' : 'approval_id = @approvalId, ';
    this.#db
      .prepare(`UPDATE turn_calls SET state = @state, ${setApproval}result_json = COALESCE(@resultJson, result_json), tainted = COALESCE(@tainted, tainted), input_json = COALESCE(@inputJson, input_json) WHERE turn_id = @turnId AND position = @position`)
      .run({
        state,
        ...(fields.approvalId === undefined ? {} : { approvalId: fields.approvalId }),
        resultJson: fields.resultJson ?? null,
        tainted: fields.tainted === undefined ? null : fields.tainted ? 1 : 0,
        inputJson: fields.inputJson ?? null,
        turnId,
        position,
      });
  }

  /** Forget a turn's calls once their results are in the session. */
  clearCalls(turnId: string): void {
    this.#db.prepare('DELETE FROM turn_calls WHERE turn_id = ?').run(turnId);
  }

  /** The turn that holds an approval, if any. */
  findByApproval(approvalId: string): TurnRecord | undefined {
    const row = this.#db
      .prepare<[string], TurnRow>('SELECT t.* FROM turns t JOIN turn_calls c ON c.turn_id = t.id WHERE c.approval_id = ? LIMIT 1')
      .get(approvalId);
    return row === undefined ? undefined : fromTurnRow(row);
  }

  /**
   * Waiting turns with a gated call whose approval is no longer pending: decisions made where
   * this process did not see them (another process, or before a restart).
   */
  listWaitingWithSettledApprovals(platform: string): string[] {
    // Only a call nothing earlier waits for: one decided behind a still-pending call cannot move
    // its turn yet, and must not be picked up again every poll.
    return this.#db
      .prepare<[string], { id: string }>(
        "SELECT DISTINCT t.id AS id FROM turns t JOIN turn_calls c ON c.turn_id = t.id JOIN approvals a ON a.id = c.approval_id " +
          "WHERE t.state = 'waiting' AND t.platform = ? AND c.state = 'gated' AND a.state != 'pending' " +
          "AND NOT EXISTS (SELECT 1 FROM turn_calls e JOIN approvals ea ON ea.id = e.approval_id " +
          "WHERE e.turn_id = t.id AND e.position < c.position AND e.state = 'gated' AND ea.state = 'pending')",
      )
      .all(platform)
      .map((r) => r.id);
  }
}

function fromTurnRow(row: TurnRow): TurnRecord {
  if (row.version !== TURN_VERSION) {
    throw new StateError(
      `turn ${row.id} has record version ${row.version}, but this mithai reads only version ${TURN_VERSION}. Upgrade mithai, or move the state directory (state.path) aside.`,
      { code: 'state_version_unsupported' },
    );
  }
  if (!TURN_STATES.has(row.state)) throw new StateError(`turn ${row.id} has unknown state '${row.state}'`);
  return {
    id: row.id,
    sessionKey: row.session_key,
    platform: row.platform,
    turnJson: row.turn_json,
    state: row.state as TurnState,
    iterations: row.iterations,
    toolCalls: row.tool_calls,
    tokens: row.tokens,
    cutRecoveries: row.cut_recoveries,
    nonce: row.nonce,
    status: row.status,
    reply: row.reply,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fromCallRow(row: CallRow): CallRecord {
  if (!CALL_STATES.has(row.state)) throw new StateError(`call ${row.call_id} of turn ${row.turn_id} has unknown state '${row.state}'`);
  return {
    turnId: row.turn_id,
    position: row.position,
    callId: row.call_id,
    name: row.name,
    inputJson: row.input_json,
    state: row.state as CallState,
    approvalId: row.approval_id,
    resultJson: row.result_json,
    tainted: row.tainted === 1,
  };
}
