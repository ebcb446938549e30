/**
 * The scripted model both systems talk to (through the fake Messages API): it drives a turn the
 * same way whichever system asks, from what the request holds.
 *
 * Auto turns ("check svc-N"): status → uptime → disk, one tool call per model response, then
 * the reply `finished svc-N` (4 model requests). Approval turns ("restart svc-N"): restart,
 * then the reply (2 model requests).
 */
import { reply, toolUse } from '../../test/fakes/anthropic/script.ts';
import type { ReplyStep, ScriptStep } from '../../test/fakes/anthropic/script.ts';
import type { RecordedRequest, WireBlock } from '../../test/fakes/anthropic/wire.ts';
import { AUTO_SEQUENCE, tagOf } from './ops.ts';

/** The text of a message's content (string or blocks). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as WireBlock[]).map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n');
}

/** The text of the first user message of a request (the turn's message, for a new thread). */
export function firstUserText(req: RecordedRequest): string {
  const first = req.messages.find((m) => m.role === 'user');
  return first ? textOf(first.content) : '';
}

/** The request's tool name that is `tool` (the baseline's `status`, mithai's `ops__status`). */
function toolName(req: RecordedRequest, tool: string): string {
  return req.tools.find((t) => t.name === tool || t.name.endsWith(`__${tool}`))?.name ?? tool;
}

/** One model response for whatever the request is at. */
export function opsStep(req: RecordedRequest): ReplyStep {
  const turnText = firstUserText(req);
  const service = tagOf(turnText) ?? 'svc-unknown';
  const answered = req.messages.filter((m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result')).length;
  const sequence: readonly string[] = /\brestart\b/.test(turnText) ? ['restart'] : AUTO_SEQUENCE;
  const next = sequence[answered];
  if (next !== undefined) return reply(toolUse(toolName(req, next), { service }));
  return reply(`finished ${service}`);
}

/** A script long enough for any round. */
export function opsScript(steps = 20_000): ScriptStep[] {
  const step: ScriptStep = (req) => opsStep(req);
  return Array.from({ length: steps }, () => step);
}

