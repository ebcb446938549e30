/**
 * Binds an approval to the exact call it was asked for: a hash of the tool name and its
 * canonical input. A decision carries the fingerprint it was shown, so a call whose
 * arguments changed can never ride on someone else's approval.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.ts';

/**
 * sha256 (hex) of `tool + '\n' + canonicalJson(input)` (keys sorted at every depth).
 * Key order in the input does not matter; any other difference does.
 *
 * @throws InternalError when the input has no JSON form (a BigInt, a cycle).
 */
export function fingerprint(tool: string, input: unknown): string {
  return createHash('sha256').update(`${tool}\n${canonicalJson(input)}`, 'utf8').digest('hex');
}
