/**
 * `mithai approvals list`: the newest approvals as a table with a header (or JSON Lines with
 * `--json`), limited by `--limit` (default 50) and `--since` (a duration back from now, or an
 * ISO date or time). Free text (deny reasons) is redacted and its hidden characters shown; the
 * input never leaves the database here (`mithai approvals show ID` prints it, redacted).
 */
import { InvalidArgumentError } from 'commander';
import type { LoadedConfig } from '../config/load-config.ts';
import type { Approval, ApprovalState } from '../human/types.ts';
import { Redactor } from '../security/redactor.ts';
import { showInvisible } from '../security/show-invisible.ts';
import { ApprovalStore } from '../state/approval-store.ts';
import { openDatabase } from '../state/database.ts';

/** How many approvals `list` shows without `--limit`. */
export const DEFAULT_LIST_LIMIT = 50;
/** A reason longer than this is cut in the table (`mithai approvals show ID` has all of it). */
const MAX_REASON_CHARS = 80;

/** What `mithai approvals list` was asked for. */
export interface ListOptions {
  states?: readonly ApprovalState[];
  /** ISO time: only approvals created at or after it. */
  since?: string;
  limit: number;
  json: boolean;
}

/** commander parser for `--limit N`. @throws InvalidArgumentError unless N is a positive whole number. */
export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Expected a positive whole number, such as 50.');
  }
  return Number(value);
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * commander parser for `--since`: a duration back from `now` (`30m`, `24h`, `7d`, `2w`) or an
 * ISO date or time (`2025-06-01` is midnight UTC, as the list's times are UTC).
 * @returns the ISO time it stands for.
 * @throws InvalidArgumentError for anything else.
 */
export function parseSince(value: string, now: () => number = Date.now): string {
  const text = value.trim();
  const duration = /^(\d+)\s*([mhdw])$/i.exec(text);
  if (duration) return new Date(now() - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw new InvalidArgumentError('Expected a duration (30m, 24h, 7d, 2w) or an ISO date or time (2025-06-01, 2025-06-01T09:00:00Z).');
  return new Date(time).toISOString();
}

/** Print the list to stdout (and a note on stderr when `--limit` left some out). */
export function printApprovalList(loaded: LoadedConfig, options: ListOptions): void {
  // Deny reasons and error outcomes are free text from people and tools: redact on the way out.
  const redactor = new Redactor(loaded.secrets);
  const db = openDatabase(loaded.config.state.path);
  let rows: Approval[];
  try {
    // One more than asked for, to know whether the limit left any out.
    rows = new ApprovalStore(db).listRecent({ states: options.states, since: options.since, limit: options.limit + 1 });
  } finally {
    db.close();
  }
  const isCut = rows.length > options.limit;
  rows = rows.slice(0, options.limit);
  if (options.json) {
    for (const a of rows) {
      // inputJson stays out: the input may hold values that should not leave the database.
      const { inputJson: _omit, ...rest } = a;
      process.stdout.write(`${redactor.redact(JSON.stringify(rest))}\n`);
    }
  } else if (rows.length === 0) {
    process.stdout.write('no approvals\n');
  } else {
    const cell = (text: string): string => showInvisible(redactor.redact(text)).replace(/\s+/g, ' ').trim() || '-';
    const table = [
      ['CREATED', 'ID', 'STATE', 'LEVEL', 'TOOL', 'REQUESTER', 'DECIDER', 'UNTRUSTED', 'REASON'],
      // The reason is cut after redaction, so a cut can never leave half a secret.
      ...rows.map((a) => [...[a.createdAt, a.id, a.state, a.level, a.tool, a.requester, a.decider ?? '', a.taint.length > 0 ? 'yes' : ''].map(cell), cut(cell(a.reason ?? ''))]),
    ];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
    // The last column (the reason) is not padded: it is free text and may be long.
    for (const row of table) process.stdout.write(`${row.map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!))).join('  ')}\n`);
  }
  if (isCut) process.stderr.write(`(showing the newest ${options.limit}; more match: raise --limit, or narrow with --since or --state)\n`);
}

/** A (redacted) reason cut to {@link MAX_REASON_CHARS}, marked when cut. */
function cut(reason: string): string {
  return reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;
}
