/**
 * The words of a turn's progress (./progress-display.ts): the assistant status line, the status
 * message while the turn works, and its closing summary. Tool names only, never inputs or
 * results; names are cut to `skill__tool` characters so nothing in them can act as mrkdwn.
 */
import type { ToolActivity } from '../../engine/types.ts';

/** Tools named in a summary; the rest are counted. */
const MAX_LISTED = 10;

/** One tool call as the display knows it. */
export interface ProgressCall {
  tool: string;
  phase: ToolActivity['phase'];
}

/** What a turn's progress says: its calls so far, and whether it waits for a person or is done. */
export interface ProgressState {
  calls: readonly ProgressCall[];
  isWaiting: boolean;
  isFinished: boolean;
}

/**
 * The progress line: for the status (`is running x…`, after the app's name) or the status
 * message (mrkdwn, ending as a summary of the tools used). Tool names only.
 */
export function progressText(state: ProgressState, via: 'status' | 'message'): string {
  const running = [...state.calls].reverse().find((c) => c.phase === 'started');
  const now = running ? `running ${via === 'message' ? `\`${safeName(running.tool)}\`` : safeName(running.tool)}…` : state.isWaiting ? 'waiting for approval…' : 'thinking…';
  if (via === 'status') return `is ${now}`;
  if (state.isFinished) return `Used ${summary(state.calls)}.`;
  const done = state.calls.filter((c) => c.phase !== 'started');
  return `:hourglass_flowing_sand: ${now}${done.length > 0 ? ` (done: ${summary(done)})` : ''}`;
}

/** `a`, `b` ×2, `c` (failed): each tool once, in order of first use, with counts. */
function summary(calls: readonly ProgressCall[]): string {
  const byTool = new Map<string, { count: number; failed: number }>();
  for (const call of calls) {
    const entry = byTool.get(call.tool) ?? { count: 0, failed: 0 };
    entry.count += 1;
    if (call.phase === 'failed' || call.phase === 'not_run') entry.failed += 1;
    byTool.set(call.tool, entry);
  }
  const items = [...byTool].map(([tool, { count, failed }]) => {
    const times = count > 1 ? ` ×${count}` : '';
    const failures = failed === 0 ? '' : failed === count ? ' (failed)' : ` (${failed} failed)`;
    return `\`${safeName(tool)}\`${times}${failures}`;
  });
  if (items.length === 0) return 'no tools';
  const listed = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${listed} and ${items.length - MAX_LISTED} more` : listed;
}

/** A tool name as shown: `skill__tool` characters only, so nothing in it can act as mrkdwn. */
function safeName(tool: string): string {
  return tool.replace(/[^A-Za-z0-9_.:-]/g, '');
}
