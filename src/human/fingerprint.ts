/**
 * Binds an approval to the exact call it was asked for: a hash of the tool name and its
 * canonical input. A decision carries the fingerprint it was shown, so a call whose
 * arguments changed can never ride on someone else's approval.
 */
import { createHash } from 'node:crypto';

/**
 * sha256 (hex) of `tool + '\n' + canonical JSON of input`.
 * Key order in the input does not matter; any other difference does.
 *
 * @throws TypeError when the input cannot be represented as JSON (a BigInt, a cycle).
 */
export function fingerprint(tool: string, input: unknown): string {
  return createHash('sha256').update(`${tool}\n${canonicalInputJson(input)}`, 'utf8').digest('hex');
}

/**
 * JSON with object keys sorted at every depth and no whitespace. Values go through
 * JSON.stringify's own rules first (toJSON, undefined properties dropped, non-finite
 * numbers → null), so the result is the canonical form of what JSON would carry.
 * A top-level undefined becomes `null`.
 *
 * Private stand-in for `audit/canonical-json.ts`, which did not exist when this was written;
 * the two must agree (sorted keys, compact).
 *
 * @throws TypeError when the value cannot be represented as JSON.
 */
export function canonicalInputJson(value: unknown): string {
  const plain: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  return JSON.stringify(sortKeys(plain));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  // fromEntries defines own properties, so a '__proto__' key stays data, never a prototype.
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
