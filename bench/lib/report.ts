/**
 * The bench's output: one {@link Row} per figure, printed as a table and written to
 * bench/results.json as a list of `{ name, target, measured, pass, detail }`.
 *
 * `measured` is always the one number the target is checked against (a ratio to the bare loop,
 * milliseconds, a share, or a count of violations); `detail` carries the raw numbers of both
 * systems. Rows without a target are reported for information and always pass.
 */
import { writeFileSync } from 'node:fs';

/** One figure. */
export interface Row {
  name: string;
  /** The target in words, e.g. `<= 1.25x (aim 1.10x)`; `info` when there is none. */
  target: string;
  /** What the target is checked against. */
  measured: number;
  pass: boolean;
  /** Raw values for the table (and results.json). */
  baseline?: number | string;
  mithai?: number | string;
  /** Unit of baseline/mithai (ms, MB, chars, %, count). */
  unit?: string;
  /** Printed in the ratio column: the ratio itself, or a note. */
  ratio?: number;
  /** Anything else worth keeping (breakdowns, per-round values, sample counts). */
  extra?: Record<string, unknown>;
}

function fmt(value: number | string | undefined, unit = ''): string {
  if (value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

/** Print the table on stdout. */
export function printTable(rows: readonly Row[]): void {
  const header = ['figure', 'target', 'baseline', 'mithai', 'ratio', 'pass'];
  const lines = rows.map((r) => [
    r.name,
    r.target,
    fmt(r.baseline, r.unit),
    fmt(r.mithai, r.unit),
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target === 'info' ? 'info' : r.pass ? 'ok' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`\n${render(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) process.stdout.write(`${render(l)}\n`);
}

/** Write results.json: a list of `{ name, target, measured, pass, detail }`. */
export function writeResults(path: string, rows: readonly Row[], meta: Record<string, unknown>): void {
  const list = rows.map((r) => ({
    name: r.name,
    target: r.target,
    measured: Number.isFinite(r.measured) ? Number(r.measured.toFixed(4)) : null,
    pass: r.pass,
    detail: { baseline: r.baseline ?? null, mithai: r.mithai ?? null, unit: r.unit ?? null, ...(r.extra ?? {}), run: meta },
  }));
  writeFileSync(path, `${JSON.stringify(list, null, 2)}\n`);
}

/** A ratio row: mithai / baseline checked against `limit`. */
export function ratioRow(name: string, baseline: number, mithai: number, limit: number, unit: string, targetText = `<= ${limit.toFixed(2)}x`, extra?: Record<string, unknown>): Row {
  const ratio = mithai / baseline;
  return { name, target: targetText, measured: ratio, pass: Number.isFinite(ratio) && ratio <= limit, baseline, mithai, unit, ratio, ...(extra ? { extra } : {}) };
}

/** An information row (no target). */
export function infoRow(name: string, baseline: number | string | undefined, mithai: number | string | undefined, unit: string, extra?: Record<string, unknown>): Row {
  const ratio = typeof baseline === 'number' && typeof mithai === 'number' && baseline > 0 ? mithai / baseline : undefined;
  return { name, target: 'info', measured: typeof mithai === 'number' ? mithai : Number.NaN, pass: true, baseline, mithai, unit, ...(ratio !== undefined ? { ratio } : {}), ...(extra ? { extra } : {}) };
}
