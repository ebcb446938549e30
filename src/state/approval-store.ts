/**
 * One row per gated tool call ({@link Approval}); the row, not any in-memory promise, is the
 * truth about where an approval stands.
 *
 * Every state change goes through {@link ApprovalStore.transition}: a single
 * `UPDATE … WHERE id = ? AND state IN (…) RETURNING *`, so of two writers racing from the
 * same state exactly one changes the row and the other learns that it lost.
 */
import { StateError } from '../errors.ts';
import type { Approval, ApprovalState, LevelReason, TaintKind, TaintSource } from '../human/types.ts';
import { emptyWal, inWriteTransaction } from './database.ts';
import type { Database } from './database.ts';

/** Record version of approval rows written by this code. */
export const APPROVAL_VERSION = 1;

/** What a settled approval's input becomes once its retention is over ({@link ApprovalStore.purgeSettledInputs}). */
export const PURGED_INPUT_JSON = '{"purged":true}';
/** What a purged approval's confirmation phrase becomes (it is built from the input). */
export const PURGED_CONFIRM_PHRASE = '(purged)';

/** Fields a transition may set besides `state`. */
export type TransitionFields = Partial<Pick<Approval, 'decider' | 'decidedAt' | 'reason' | 'outcome' | 'finishedAt' | 'decidedVia' | 'validUntil'>>;

/** Options of {@link ApprovalStore.transition}. */
export interface TransitionOptions {
  /** ISO time: change the row only while its deadline is still later than this. */
  notAfter?: string;
}

interface ApprovalRow {
  id: string;
  version: number;
  call_id: string;
  session_key: string;
  tool: string;
  tool_description: string;
  level: string;
  level_reason: string;
  fingerprint: string;
  input_json: string;
  requester: string;
  channel: string;
  thread: string;
  confirm_phrase: string | null;
  state: string;
  created_at: string;
  deadline: string;
  decider: string | null;
  decided_at: string | null;
  reason: string | null;
  outcome: string | null;
  finished_at: string | null;
  display_ref: string | null;
  turn_id: string | null;
  displayed_state: string | null;
  decided_via: string | null;
  valid_until: string | null;
  taint_json: string | null;
}

/** Column for each scalar Approval field, in table order (`taint` is stored as JSON in `taint_json`). */
const COLUMNS: ReadonlyArray<readonly [Exclude<keyof Approval, 'taint'>, Exclude<keyof ApprovalRow, 'taint_json'>]> = [
  ['id', 'id'],
  ['version', 'version'],
  ['callId', 'call_id'],
  ['sessionKey', 'session_key'],
  ['tool', 'tool'],
  ['toolDescription', 'tool_description'],
  ['level', 'level'],
  ['levelReason', 'level_reason'],
  ['fingerprint', 'fingerprint'],
  ['inputJson', 'input_json'],
  ['requester', 'requester'],
  ['channel', 'channel'],
  ['thread', 'thread'],
  ['confirmPhrase', 'confirm_phrase'],
  ['state', 'state'],
  ['createdAt', 'created_at'],
  ['deadline', 'deadline'],
  ['decider', 'decider'],
  ['decidedAt', 'decided_at'],
  ['reason', 'reason'],
  ['outcome', 'outcome'],
  ['finishedAt', 'finished_at'],
  ['displayRef', 'display_ref'],
  ['turnId', 'turn_id'],
  ['displayedState', 'displayed_state'],
  ['decidedVia', 'decided_via'],
  ['validUntil', 'valid_until'],
];

/** The only columns a transition may write; anything else in `fields` is ignored. */
const TRANSITION_COLUMNS: Readonly<Record<keyof TransitionFields, string>> = {
  decider: 'decider',
  decidedAt: 'decided_at',
  reason: 'reason',
  outcome: 'outcome',
  finishedAt: 'finished_at',
  decidedVia: 'decided_via',
  validUntil: 'valid_until',
};

const STATES: ReadonlySet<string> = new Set<ApprovalState>([
  'pending', 'approved', 'denied', 'expired', 'cancelled', 'executing', 'succeeded', 'failed', 'unknown',
]);
/** States from which nothing further happens (as FINAL_STATES in human/types.ts; state/ may not import human/). */
const SETTLED_STATES: readonly ApprovalState[] = ['denied', 'expired', 'cancelled', 'succeeded', 'failed', 'unknown'];
const LEVEL_REASONS: ReadonlySet<string> = new Set<LevelReason>(['declared', 'default', 'override', 'dynamic', 'taint', 'fail_closed']);
const TAINT_KINDS: ReadonlySet<string> = new Set<TaintKind>(['tool_output', 'tool_error', 'thread_message', 'unrecorded']);
/** What an unreadable taint snapshot reads as: untrusted, source unknown (fail closed). */
const UNREADABLE_TAINT: readonly TaintSource[] = [{ kind: 'unrecorded', source: '' }];

/** Persisted approvals. */
export class ApprovalStore {
  readonly #db: Database;

  /** @param db An open state database ({@link openDatabase}). */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Insert a new approval.
   * @throws StateError when the id exists, or the session already has an approval for the
   *   same call id (a call is never gated, and so never run, twice).
   */
  insert(approval: Approval): void {
    const columns = [...COLUMNS.map(([, column]) => column), 'taint_json'];
    const sql = `INSERT INTO approvals (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;
    const params: Record<string, unknown> = {};
    for (const [field, column] of COLUMNS) params[column] = approval[field];
    params.taint_json = JSON.stringify(approval.taint.map(({ kind, source }) => ({ kind, source })));
    try {
      this.#db.prepare(sql).run(params);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StateError(
          `approval ${approval.id} for call ${approval.callId} in session ${approval.sessionKey} already exists; a call is gated only once`,
          { cause: err, code: 'approval_exists' },
        );
      }
      throw err;
    }
  }

  /**
   * @returns The approval, or undefined when there is none with this id.
   * @throws StateError when the row has an unknown version.
   */
  get(id: string): Approval | undefined {
    const row = this.#db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?').get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  /**
   * Atomically move an approval from one of `from` to `to`, setting `fields` with it.
   *
   * @param options.notAfter When given, the row changes only if its deadline is later than
   *   this ISO time (a decision arriving at or after the deadline changes nothing).
   * @returns The updated approval, or undefined when nothing changed (no such id, state not
   *   in `from`, or deadline passed): the caller lost a race or was too late.
   */
  transition(
    id: string,
    from: readonly ApprovalState[],
    to: ApprovalState,
    fields: TransitionFields = {},
    options: TransitionOptions = {},
  ): Approval | undefined {
    if (from.length === 0) return undefined;
    const sets = ['state = @to'];
    const params: Record<string, unknown> = { id, to };
    for (const [field, column] of Object.entries(TRANSITION_COLUMNS)) {
      const value = fields[field as keyof TransitionFields];
      if (value === undefined) continue;
      sets.push(`${column} = @${column}`);
      params[column] = value;
    }
    const fromParams = from.map((state, i) => {
      params[`from${i}`] = state;
      return `@from${i}`;
    });
    let sql = `UPDATE approvals SET ${sets.join(', ')} WHERE id = @id AND state IN (${fromParams.join(', ')})`;
    if (options.notAfter !== undefined) {
      // ISO-8601 UTC strings of the same shape compare correctly as text.
      sql += ' AND deadline > @notAfter';
      params.notAfter = options.notAfter;
    }
    // In a transaction (a savepoint inside the caller's): a statement that writes and returns
    // rows must not commit on its own (see watchAutocommits in ./database.ts).
    const row = inWriteTransaction(this.#db, () => this.#db.prepare<[Record<string, unknown>], ApprovalRow>(`${sql} RETURNING *`).get(params));
    return row === undefined ? undefined : fromRow(row);
  }

  /** Approvals in any of the given states, oldest first. */
  listByState(states: readonly ApprovalState[]): Approval[] {
    if (states.length === 0) return [];
    const rows = this.#db
      .prepare<unknown[], ApprovalRow>(
        `SELECT * FROM approvals WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_at, rowid`,
      )
      .all(...states);
    return rows.map(fromRow);
  }

  /**
   * The newest approvals first, for `mithai approvals list`.
   * @param options.states Only these states (all when left out).
   * @param options.since Only approvals created at or after this ISO time.
   * @param options.limit At most this many.
   */
  listRecent(options: { states?: readonly ApprovalState[]; since?: string; limit: number }): Approval[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.states !== undefined) {
      if (options.states.length === 0) return [];
      where.push(`state IN (${options.states.map(() => '?').join(', ')})`);
      params.push(...options.states);
    }
    if (options.since !== undefined) {
      where.push('created_at >= ?');
      params.push(options.since);
    }
    const rows = this.#db
      .prepare<unknown[], ApprovalRow>(`SELECT * FROM approvals${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`)
      .all(...params, options.limit);
    return rows.map(fromRow);
  }

  /** Record where the approval is shown (adapter-specific JSON). @returns false when there is no such id. */
  setDisplayRef(id: string, ref: string): boolean {
    return this.#db.prepare('UPDATE approvals SET display_ref = ? WHERE id = ?').run(ref, id).changes === 1;
  }

  /**
   * Record the state the approval's display (card) now shows.
   * @returns false when there is no such id.
   */
  setDisplayedState(id: string, state: ApprovalState): boolean {
    return this.#db.prepare('UPDATE approvals SET displayed_state = ? WHERE id = ?').run(state, id).changes === 1;
  }

  /**
   * Approvals whose display is behind their state (a card update that failed or was lost to a
   * crash), oldest first, at most `limit`.
   */
  listUndisplayed(limit = 100): Approval[] {
    return this.#db
      .prepare<[number], ApprovalRow>(
        'SELECT * FROM approvals WHERE displayed_state IS NULL OR displayed_state != state ORDER BY created_at, rowid LIMIT ?',
      )
      .all(limit)
      .map(fromRow);
  }

  /** Approvals of one durable turn, oldest first. */
  listByTurn(turnId: string): Approval[] {
    return this.#db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE turn_id = ? ORDER BY created_at, rowid').all(turnId).map(fromRow);
  }

  /** The most recent approval for a model call id, if any. */
  findByCallId(callId: string): Approval | undefined {
    const row = this.#db
      .prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE call_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1')
      .get(callId);
    return row === undefined ? undefined : fromRow(row);
  }

  /**
   * Forget the tool input of settled approvals: set `input_json` to {@link PURGED_INPUT_JSON} for
   * every approval in a final state (denied, expired, cancelled, succeeded, failed, unknown)
   * that settled before `olderThanIso`, and a confirmation phrase (made from the input) to
   * {@link PURGED_CONFIRM_PHRASE}. "Settled" is when it finished, else when it was decided,
   * else its deadline (an expiry has no other time). Everything else, the fingerprint included,
   * is kept, so the audit log still verifies and `mithai approvals` still lists the call. The
   * old bytes go too: the database zeroes what it frees (secure_delete), and the WAL that still
   * holds them in older frames is emptied into the database file.
   *
   * @param olderThanIso - ISO-8601 UTC time, e.g. `new Date(now - days * 86_400_000).toISOString()`.
   * @returns how many approvals were purged now (ones purged before are not counted).
   */
  purgeSettledInputs(olderThanIso: string): number {
    const finals = SETTLED_STATES;
    const purged = this.#db
      .prepare(
        `UPDATE approvals SET input_json = ?, confirm_phrase = CASE WHEN confirm_phrase IS NULL THEN NULL ELSE ? END WHERE state IN (${finals.map(() => '?').join(', ')}) ` +
          // ISO-8601 UTC strings of the same shape compare correctly as text.
        'AND COALESCE(finished_at, decided_at, deadline) < ? AND (input_json != ? OR confirm_phrase != ?)',
      )
      .run(PURGED_INPUT_JSON, PURGED_CONFIRM_PHRASE, ...finals, olderThanIso, PURGED_INPUT_JSON, PURGED_CONFIRM_PHRASE).changes;
    if (purged > 0) emptyWal(this.#db);
    return purged;
  }

  /**
   * Run `fn` in one write transaction (BEGIN IMMEDIATE), nesting as a savepoint when one is
   * already open. Taking the write lock up front means the commit cannot lose to another
   * connection after `fn` has done work outside the database (such as an audit append).
   */
  inTransaction<T>(fn: () => T): T {
    return inWriteTransaction(this.#db, fn);
  }

  /** True while a transaction is open on the connection. */
  get isInTransaction(): boolean {
    return this.#db.inTransaction;
  }
}

function fromRow(row: ApprovalRow): Approval {
  if (row.version !== APPROVAL_VERSION) {
    throw new StateError(
      `approval ${row.id} has record version ${row.version}, but this mithai reads only version ${APPROVAL_VERSION}. ` +
        `Upgrade mithai, or move the state directory (state.path) aside.`,
      { code: 'state_version_unsupported' },
    );
  }
  if (!STATES.has(row.state)) throw new StateError(`approval ${row.id} has unknown state '${row.state}'`);
  if (row.level !== 'approve' && row.level !== 'confirm') throw new StateError(`approval ${row.id} has unknown level '${row.level}'`);
  if (!LEVEL_REASONS.has(row.level_reason)) throw new StateError(`approval ${row.id} has unknown level reason '${row.level_reason}'`);
  return {
    version: APPROVAL_VERSION,
    id: row.id,
    callId: row.call_id,
    sessionKey: row.session_key,
    tool: row.tool,
    toolDescription: row.tool_description,
    level: row.level,
    levelReason: row.level_reason as LevelReason,
    fingerprint: row.fingerprint,
    inputJson: row.input_json,
    requester: row.requester,
    channel: row.channel,
    thread: row.thread,
    confirmPhrase: row.confirm_phrase,
    state: row.state as ApprovalState,
    createdAt: row.created_at,
    deadline: row.deadline,
    decider: row.decider,
    decidedAt: row.decided_at,
    reason: row.reason,
    outcome: row.outcome,
    finishedAt: row.finished_at,
    displayRef: row.display_ref,
    turnId: row.turn_id,
    displayedState: row.displayed_state !== null && STATES.has(row.displayed_state) ? (row.displayed_state as ApprovalState) : null,
    decidedVia: row.decided_via,
    validUntil: row.valid_until,
    taint: parseTaint(row.taint_json),
  };
}

/**
 * The taint snapshot of a row. NULL (opened before the column existed, and not a call made
 * after untrusted content as far as the migration could tell) is none; anything unreadable
 * reads as untrusted with an unknown source, never as none.
 */
function parseTaint(json: string | null): TaintSource[] {
  if (json === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [...UNREADABLE_TAINT];
  }
  if (!Array.isArray(value)) return [...UNREADABLE_TAINT];
  const sources: TaintSource[] = [];
  for (const item of value as unknown[]) {
    const { kind, source } = (item ?? {}) as { kind?: unknown; source?: unknown };
    if (typeof kind !== 'string' || !TAINT_KINDS.has(kind) || typeof source !== 'string') return [...UNREADABLE_TAINT];
    sources.push({ kind: kind as TaintKind, source });
  }
  return sources;
}
