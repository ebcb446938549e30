/**
 * Conversation history per session, one row per message.
 *
 * The session key is an opaque string built by the engine (platform + team + channel +
 * thread). It is only ever a bound SQL parameter, never a path or part of SQL text.
 */
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { StateError, errorMessage } from '../errors.ts';
import type { TaintKind, TaintSource } from '../human/types.ts';
import type { Message } from '../llm/types.ts';
import { inWriteTransaction } from './database.ts';
import type { Database } from './database.ts';

/** Shape version of `session_messages.message_json` written by this code. */
export const MESSAGE_VERSION = 1;

/** At most this many distinct taint sources are kept per session (as MAX_TAINT_SOURCES in human/taint.ts; state/ may not import human/). */
export const MAX_SESSION_TAINTS = 20;
/** `sessions.updated_at` is the time of the session's last append to within this much (see #touch). */
export const TOUCH_GRANULARITY_MS = 60_000;
/** Longest source stored (the engine cleans and clips sources before; this is a backstop). */
const MAX_SOURCE_CHARS = 200;
const TAINT_KINDS: ReadonlySet<string> = new Set<TaintKind>(['tool_output', 'tool_error', 'thread_message', 'unrecorded']);

/** A session as loaded for a turn. */
export interface LoadedSession {
  /** Messages in the order they were appended. */
  messages: Message[];
  /** True once untrusted content has entered the session (sticky). */
  tainted: boolean;
}

interface MessageRow {
  id: number;
  version: number;
  message_json: string;
}

/** Persisted conversation history, taint flag and taint sources, keyed by session key. */
export class SessionStore {
  readonly #db: Database;
  readonly #clock: Clock;

  /**
   * @param db An open state database ({@link openDatabase}).
   * @param clock Source of the created/updated timestamps.
   */
  constructor(db: Database, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** True when the session has any stored message (cheaper than loading it). */
  hasMessages(key: string): boolean {
    return this.#db.prepare<[string], { one: number }>('SELECT 1 AS one FROM session_messages WHERE session_key = ? LIMIT 1').get(key) !== undefined;
  }

  /**
   * Load a session's history. An unknown key is an empty, untainted session.
   *
   * @param key The session key.
   * @param limit When given, keep at most the last `limit` messages, then drop messages from
   *   the front until the history starts with a user message that carries no tool_result
   *   blocks. Starting with an assistant message or with orphaned tool results would be an
   *   invalid conversation for the model. If the window holds no such boundary the history is
   *   empty.
   * @throws StateError when a row has an unknown version or unreadable JSON.
   */
  load(key: string, limit?: number): LoadedSession {
    const session = this.#db
      .prepare<[string], { tainted: number }>('SELECT tainted FROM sessions WHERE key = ?')
      .get(key);
    if (session === undefined) return { messages: [], tainted: false };

    let rows: MessageRow[];
    if (limit === undefined) {
      rows = this.#db
        .prepare<[string], MessageRow>('SELECT id, version, message_json FROM session_messages WHERE session_key = ? AND excluded = 0 ORDER BY id')
        .all(key);
    } else {
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
      rows = this.#db
        .prepare<[string, number], MessageRow>(
          'SELECT id, version, message_json FROM session_messages WHERE session_key = ? AND excluded = 0 ORDER BY id DESC LIMIT ?',
        )
        .all(key, limit)
        .reverse();
    }
    const messages = rows.map(parseRow);
    return { messages: limit === undefined ? messages : historyWindow(messages, limit), tainted: session.tainted === 1 };
  }

  /**
   * Append messages to a session (created if new), in one transaction.
   * @returns The messages as {@link load} will read them back (each one through JSON), so a
   *   caller can keep a loaded history up to date without loading it again (see historyWindow).
   * @throws StateError when a message cannot be serialised.
   */
  append(key: string, messages: readonly Message[], turnId?: string): Message[] {
    const now = this.#now();
    const insert = this.#db.prepare(
      'INSERT INTO session_messages (session_key, version, message_json, created_at, turn_id) VALUES (?, ?, ?, ?, ?)',
    );
    return inWriteTransaction(this.#db, () => {
      this.#touch(key, now);
      return messages.map((message) => {
        let json: string;
        try {
          json = JSON.stringify(message);
        } catch (err) {
          throw new StateError(`session ${key}: cannot store a ${message.role} message: ${errorMessage(err)}`, { cause: err });
        }
        insert.run(key, MESSAGE_VERSION, json, now, turnId ?? null);
        return JSON.parse(json) as Message;
      });
    });
  }

  /**
   * Keep a failed turn's messages on record but out of every later request, so one message the
   * API always rejects cannot break its thread for good.
   * @returns how many messages were excluded.
   */
  excludeTurn(turnId: string): number {
    return this.#db.prepare('UPDATE session_messages SET excluded = 1 WHERE turn_id = ?').run(turnId).changes;
  }

  /** How many stored messages a session has that still reach the model. */
  countMessages(key: string): number {
    return this.#db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM session_messages WHERE session_key = ? AND excluded = 0').get(key)?.n ?? 0;
  }

  /** True once untrusted content has entered the session. */
  isTainted(key: string): boolean {
    return this.#db.prepare<[string], { tainted: number }>('SELECT tainted FROM sessions WHERE key = ?').get(key)?.tainted === 1;
  }

  /**
   * Mark a session as tainted by untrusted content, recording where it came from in the same
   * transaction (the first {@link MAX_SESSION_TAINTS} distinct sources are kept; a source seen
   * before keeps its first time). Taint is never cleared.
   * @param sources Cleaned sources (ids and tool names, never message text; see human/taint.ts).
   */
  markTainted(key: string, sources: readonly TaintSource[] = []): void {
    const now = this.#now();
    const insert = this.#db.prepare('INSERT OR IGNORE INTO session_taints (session_key, kind, source, first_at) VALUES (?, ?, ?, ?)');
    const count = this.#db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM session_taints WHERE session_key = ?');
    inWriteTransaction(this.#db, () => {
      const wasTainted = this.isTainted(key);
      this.#touch(key, now);
      // Only when it changes: rewriting the row of a session tainted already is a page in the commit for nothing.
      this.#db.prepare('UPDATE sessions SET tainted = 1 WHERE key = ? AND tainted = 0').run(key);
      let stored = count.get(key)?.n ?? 0;
      // Tainted before, with nothing recorded: that earlier content stays named ("source not
      // recorded") next to the new sources, rather than vanish behind them.
      if (wasTainted && stored === 0 && sources.length > 0) stored += insert.run(key, 'unrecorded', '', now).changes;
      for (const source of sources) {
        if (stored >= MAX_SESSION_TAINTS) break;
        stored += insert.run(key, source.kind, source.source.slice(0, MAX_SOURCE_CHARS), now).changes;
      }
    });
  }

  /**
   * Where the session's untrusted content came from, oldest first. A tainted session without a
   * recorded source (tainted before sources were kept) has one `unrecorded` source, so taint
   * never reads as "none"; an untainted session has none.
   */
  taintSources(key: string): TaintSource[] {
    if (!this.isTainted(key)) return [];
    const rows = this.#db
      .prepare<[string], { kind: string; source: string }>('SELECT kind, source FROM session_taints WHERE session_key = ? ORDER BY first_at, rowid')
      .all(key);
    // An unknown kind (a newer mithai wrote it) still says "untrusted": never dropped.
    const sources = rows.map((row): TaintSource => (TAINT_KINDS.has(row.kind) ? { kind: row.kind as TaintKind, source: row.source } : { kind: 'unrecorded', source: '' }));
    return sources.length > 0 ? sources : [{ kind: 'unrecorded', source: '' }];
  }

  /**
   * Create the session row if it is new, else move `updated_at` on, but only once it is
   * {@link TOUCH_GRANULARITY_MS} old: a turn appends about eight times, and rewriting the row
   * each time put a page in every one of those commits (and in the fsync that covers them).
   */
  #touch(key: string, now: string): void {
    const staleBefore = new Date(Date.parse(now) - TOUCH_GRANULARITY_MS).toISOString();
    this.#db
      .prepare(
        'INSERT INTO sessions (key, tainted, created_at, updated_at) VALUES (?, 0, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at WHERE sessions.updated_at < ? OR sessions.updated_at > excluded.updated_at',
      )
      .run(key, now, now, staleBefore);
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

function parseRow(row: MessageRow): Message {
  if (row.version !== MESSAGE_VERSION) {
    throw new StateError(
      `session message ${row.id} has version ${row.version}, but this mithai reads only version ${MESSAGE_VERSION}. ` +
        `Upgrade mithai, or move the state directory (state.path) aside.`,
      { code: 'state_version_unsupported' },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(row.message_json);
  } catch (err) {
    throw new StateError(`session message ${row.id} is not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
  if (!isMessage(value)) throw new StateError(`session message ${row.id} is not a message (role and content expected)`);
  return value;
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null) return false;
  const { role, content } = value as { role?: unknown; content?: unknown };
  return (role === 'user' || role === 'assistant') && (typeof content === 'string' || Array.isArray(content));
}

/**
 * What {@link SessionStore.load} with `limit` returns from a session's messages in order: the
 * last `limit`, then from the first user message that carries no tool_result blocks (empty
 * when there is none). Applied to what `load` returned plus the messages appended since, it
 * gives what `load` would return now: the messages it had dropped from the front hold no such
 * start, so they could never be where the window begins.
 */
export function historyWindow(messages: readonly Message[], limit: number): Message[] {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  const last = limit === 0 ? [] : messages.slice(-limit);
  const start = last.findIndex(isCleanStart);
  return start === -1 ? [] : last.slice(start);
}

/** A user message that does not answer earlier tool calls: a safe first message. */
function isCleanStart(message: Message): boolean {
  if (message.role !== 'user') return false;
  if (typeof message.content === 'string') return true;
  return message.content.length > 0 && message.content.every((block) => block.type === 'text');
}
