/**
 * Text for the model: control characters out, cells reduced to one safe token, tables, and caps
 * that cut on line boundaries and say what they left out. Nothing here returns more than the
 * limit it is given.
 */

/** ANSI escape sequences (CSI and OSC), which would otherwise reach the model and the card. */
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;
/** C0/C1 controls except tab and newline, DEL, and invisible or direction-changing characters. */
const INVISIBLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `text` without escape sequences and invisible characters; `\r\n` becomes `\n`. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(ANSI, '').replace(INVISIBLE, '');
}

/** Characters a table cell may hold: one token, no spaces, nothing that reads as prose markup. */
const CELL_UNSAFE = /[^A-Za-z0-9._:/@+,%*=<>()-]/g;

/** Longest cell. */
const CELL_MAX = 63;

/**
 * One table cell from a value of the API: a single token of `[A-Za-z0-9._:/@+,%*=<>()-]`
 * (anything else becomes `?`), at most 63 characters, `<none>` when empty. Cells built this way
 * cannot carry sentences, which is why the tables of `get` and `top` are not marked untrusted.
 */
export function cell(value: unknown, max: number = CELL_MAX): string {
  const text = value === undefined || value === null ? '' : String(value);
  if (text === '') return '<none>';
  const safe = text.replace(CELL_UNSAFE, '?');
  return safe.length > max ? `${safe.slice(0, max - 1)}~` : safe;
}

/** Rows under a header, columns padded and separated by two spaces. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * The start of `text` in at most `maxChars` characters, cut at a line end, with a last line
 * saying how many lines were left out (and `hint`, how to see less).
 */
export function headLines(text: string, maxChars: number, hint = ''): string {
  if (text.length <= maxChars) return text;
  const notice = (left: number) => `[… ${left} more line(s) not shown${hint === '' ? '' : `; ${hint}`}]`;
  const total = countLines(text);
  let cut = text.lastIndexOf('\n', Math.max(0, maxChars - notice(total).length - 1));
  if (cut <= 0) cut = Math.max(0, maxChars - notice(total).length - 1);
  const kept = text.slice(0, cut);
  return `${kept}\n${notice(total - countLines(kept))}`;
}

/** What {@link tailLines} kept. */
export interface Tail {
  text: string;
  /** Lines of the input left out. */
  droppedLines: number;
}

/** The last `maxLines` lines of `text` that fit in `maxChars` characters (whole lines only). */
export function tailLines(text: string, maxLines: number, maxChars: number): Tail {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < maxLines; i--) {
    const line = lines[i]!;
    const cost = line.length + (kept.length > 0 ? 1 : 0);
    if (size + cost > maxChars) {
      // A single line longer than the whole budget: keep its end rather than nothing.
      if (kept.length === 0) kept.push(`…${line.slice(line.length - maxChars + 1)}`);
      break;
    }
    kept.push(line);
    size += cost;
  }
  return { text: kept.reverse().join('\n'), droppedLines: lines.length - kept.length };
}

/** `5d`, `7h`, `12m`, `40s`: how long ago an API timestamp was, like kubectl's AGE. */
export function age(timestamp: unknown, now: number): string {
  const then = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (!Number.isFinite(then)) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function countLines(text: string): number {
  return text === '' ? 0 : text.split('\n').length;
}
