/**
 * The read-only operations: each checks its input and the config, pins a target, runs one
 * kubectl command and turns its output into compact text within `max_result_chars`.
 */
import type { ToolContext } from 'mithai';
import type { KubernetesConfig } from './config.ts';
import type { Flag } from './argv.ts';
import { DescribeInput, EventsInput, GetInput, LogsInput, RolloutStatusInput, TopInput, begin } from './inputs.ts';
import { KINDS, resourceRef } from './kinds.ts';
import { kubectl, type KubectlOutput } from './run-kubectl.ts';
import { eventsTable, itemsOf, resourceTable, topTable } from './tables.ts';
import { RefusedError, namespacedTarget, targetFor, targetLabel } from './target.ts';
import { cleanText, headLines, tailLines } from './text.ts';

const NARROW = 'narrow it with name or selector';

/** `get`: a compact table of one kind (from `-o json`). */
export async function getResources(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(GetInput, raw, ctx);
  const kind = KINDS[input.kind];
  oneOf(input.name, input.selector, false);
  const target = targetFor(config, input, kind.namespaced);
  const out = await kubectl(config, ctx, 'get', target, [['output', 'json'], ...selector(input.selector)], [kind.resource, ...optional(input.name)]);
  const items = itemsOf(parseJson(out, config));
  const what = input.name !== undefined ? resourceRef(input.kind, input.name) : `${kind.resource}${input.selector === undefined ? '' : ` matching ${input.selector}`}`;
  const header = `${what} in ${targetLabel(target)}: ${items.length} object(s)`;
  return headLines(`${header}\n${resourceTable(input.kind, items, Date.now())}`, config.maxResultChars, NARROW);
}

/** `describe`: kubectl's text, cleaned and cut. */
export async function describeResource(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(DescribeInput, raw, ctx);
  const kind = KINDS[input.kind];
  oneOf(input.name, input.selector, true);
  const target = targetFor(config, input, kind.namespaced);
  const out = await kubectl(config, ctx, 'describe', target, selector(input.selector), [kind.resource, ...optional(input.name)]);
  const what = input.name !== undefined ? resourceRef(input.kind, input.name) : `${kind.resource} matching ${input.selector}`;
  return headLines(`describe ${what} in ${targetLabel(target)}:${cutNote(out)}\n${cleanText(out.stdout).trimEnd()}`, config.maxResultChars, NARROW);
}

/** `logs`: the last lines of one container, capped by `logs_max_lines` and by characters. */
export async function readLogs(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(LogsInput, raw, ctx);
  const target = namespacedTarget(config, input);
  const lines = Math.min(input.lines ?? config.logsMaxLines, config.logsMaxLines);
  const flags: Flag[] = [['tail', lines], ['limit-bytes', config.maxOutputBytes]];
  if (input.container !== undefined) flags.push(['container', input.container]);
  if (input.since !== undefined) flags.push(['since', input.since]);
  if (input.previous === true) flags.push(['previous', true]);
  const out = await kubectl(config, ctx, 'logs', target, flags, [input.pod]);
  // kubectl already tails, but the cap is enforced here too: whatever kubectl printed, at most
  // `lines` lines and a header's worth less than max_result_chars reach the model.
  const tail = tailLines(cleanText(out.stdout), lines, config.maxResultChars - 300);
  const notes = [
    ...(input.lines !== undefined && input.lines > lines ? [`capped at logs_max_lines (${lines})`] : []),
    ...(tail.droppedLines > 0 ? [`${tail.droppedLines} earlier line(s) not shown`] : []),
    ...(out.droppedBytes > 0 ? [`kubectl printed more than max_output_bytes; these are the last lines of what was read`] : []),
  ];
  const shown = tail.text === '' ? 0 : tail.text.split('\n').length;
  const container = input.container === undefined ? '' : ` container ${input.container}`;
  const header = `logs of pod/${input.pod}${container} in ${targetLabel(target)}: last ${shown} line(s)${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  return shown === 0 ? `${header}\n(no log lines)` : `${header}\n${tail.text}`;
}

/** `top`: CPU and memory of pods or nodes, re-tabled cell by cell. */
export async function topUsage(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(TopInput, raw, ctx);
  oneOf(input.name, input.selector, false);
  const target = targetFor(config, input, input.kind === 'pods');
  const out = await kubectl(config, ctx, input.kind === 'pods' ? 'top pod' : 'top node', target, selector(input.selector), optional(input.name));
  const table = topTable(out.stdout);
  return headLines(`${input.kind} usage in ${targetLabel(target)}: ${table.rows} row(s)\n${table.text}`, config.maxResultChars, NARROW);
}

/** `events`: the most recent events of a namespace, optionally about one object. */
export async function listEvents(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(EventsInput, raw, ctx);
  if (input.name !== undefined && input.kind === undefined) throw new RefusedError('give kind together with name');
  const target = namespacedTarget(config, input);
  const about = input.kind === undefined ? [] : [`involvedObject.kind=${KINDS[input.kind].apiKind}`, ...(input.name === undefined ? [] : [`involvedObject.name=${input.name}`])];
  const flags: Flag[] = [['output', 'json'], ...(about.length > 0 ? [['field-selector', about.join(',')] as const] : [])];
  const out = await kubectl(config, ctx, 'get', target, flags, ['events']);
  const table = eventsTable(itemsOf(parseJson(out, config)), Date.now());
  const what = input.kind === undefined ? '' : ` about ${input.name === undefined ? KINDS[input.kind].resource : resourceRef(input.kind, input.name)}`;
  const header = `events in ${targetLabel(target)}${what}: the last ${table.shown} of ${table.total}, oldest first`;
  // Over the cap, keep the newest rows (the end) and the column header.
  const [columns, ...rows] = table.text.split('\n');
  const kept = tailLines(rows.join('\n'), rows.length, config.maxResultChars - header.length - (columns?.length ?? 0) - 100);
  const cut = kept.droppedLines > 0 ? `\n[${kept.droppedLines} older row(s) not shown]` : '';
  return `${header}${cut}\n${columns ?? ''}${kept.text === '' ? '' : `\n${kept.text}`}`;
}

/** `rollout_status`: one look at a rollout (`--watch=false`), never a wait. */
export async function rolloutStatus(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(RolloutStatusInput, raw, ctx);
  const target = namespacedTarget(config, input);
  const out = await kubectl(config, ctx, 'rollout status', target, [['watch', false]], [resourceRef(input.kind, input.name)]);
  return headLines(`${targetLabel(target)}: ${cleanText(out.stdout).trim()}`, config.maxResultChars);
}

/** Parse kubectl's JSON; output cut at `max_output_bytes` cannot be parsed and is refused whole. */
export function parseJson(out: KubectlOutput, config: KubernetesConfig): unknown {
  if (out.droppedBytes > 0) {
    throw new Error(`kubectl printed more than max_output_bytes (${config.maxOutputBytes} bytes); ${NARROW}`);
  }
  try {
    return JSON.parse(out.stdout) as unknown;
  } catch {
    throw new Error('kubectl did not print JSON');
  }
}

function selector(value: string | undefined): Flag[] {
  return value === undefined ? [] : [['selector', value]];
}

function optional(value: string | undefined): string[] {
  return value === undefined ? [] : [value];
}

/** A name or a selector: not both; with `required`, one of them. */
function oneOf(name: string | undefined, labelSelector: string | undefined, required: boolean): void {
  if (name !== undefined && labelSelector !== undefined) throw new RefusedError('give name or selector, not both');
  if (required && name === undefined && labelSelector === undefined) throw new RefusedError('give name or selector');
}

function cutNote(out: KubectlOutput): string {
  return out.droppedBytes > 0 ? ' (kubectl printed more than max_output_bytes; the rest was not read)' : '';
}
