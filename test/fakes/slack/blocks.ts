/**
 * Helpers for Block Kit payloads the fake stores: filling in the ids Slack generates when an
 * app leaves them out, finding a button in a posted message, and turning a stored message into
 * the shape the Web API returns. Argument readers for decoded form/JSON values live here too.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, SlackMessage } from './types.ts';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short random id like the ones Slack assigns to blocks and elements without one. */
function shortId(): string {
  return randomBytes(4).toString('base64url').slice(0, 5);
}

/** The interactive elements of a block (actions elements, section accessory, input element). */
export function elementsOf(block: JsonObject): JsonObject[] {
  const out: unknown[] = [];
  if (Array.isArray(block.elements) && block.type === 'actions') out.push(...block.elements);
  if (block.accessory !== undefined) out.push(block.accessory);
  if (block.element !== undefined) out.push(block.element);
  return out.filter(isObject);
}

/**
 * Copy blocks and fill in missing `block_id`s and `action_id`s, as Slack does when it stores
 * a message or view (so the ids an interaction payload carries always exist).
 */
export function withGeneratedIds(blocks: unknown): JsonObject[] | undefined {
  if (!Array.isArray(blocks)) return undefined;
  const copy = structuredClone(blocks).filter(isObject);
  for (const block of copy) {
    block.block_id ??= shortId();
    for (const element of elementsOf(block)) element.action_id ??= shortId();
  }
  return copy;
}

/** A button found in a message: its block_id and the element itself. */
export interface FoundButton {
  blockId: string;
  element: JsonObject;
}

/** Find a button by action_id (and block_id, when given) in a list of blocks. */
export function findButton(blocks: JsonObject[] | undefined, actionId: string, blockId?: string): FoundButton | undefined {
  for (const block of blocks ?? []) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    for (const element of elementsOf(block)) {
      if (element.type === 'button' && element.action_id === actionId) return { blockId: String(block.block_id), element };
    }
  }
  return undefined;
}

/** A stored message as the Web API returns it (without the fake's `channel` bookkeeping field). */
export function wireMessage(message: SlackMessage): JsonObject {
  const { channel: _channel, ...rest } = structuredClone(message);
  return rest;
}

/** A string argument, or undefined when absent or empty. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A boolean argument: JSON booleans, or `true`/`1` strings from a form body. */
export function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}
