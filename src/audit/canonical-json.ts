/**
 * Canonical JSON: the same value always gives the same text, whatever order its keys were
 * built in. Used for the audit hash chain and for approval fingerprints, where two encodings
 * of the same value must never hash differently.
 */
import { InternalError } from '../errors.ts';

/**
 * Serialise `value` as JSON with object keys sorted (by UTF-16 code units, recursively) and no
 * whitespace. Follows `JSON.stringify` otherwise: `toJSON` is honoured, `undefined` and
 * functions are dropped from objects and become `null` in arrays, non-finite numbers become
 * `null`.
 *
 * @throws InternalError on a cycle or a BigInt, which have no JSON form; silently producing
 *   something else would make two different values share a hash.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set()) ?? 'null';
}

function encode(value: unknown, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new InternalError('canonicalJson cannot encode a BigInt; convert it to a string or number first');
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.has(object)) throw new InternalError('canonicalJson cannot encode a value that contains itself (a cycle)');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item) => encode(item, ancestors) ?? 'null').join(',')}]`;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      // A Map, Set or class instance would encode as {} and make different values share a
      // fingerprint (an approver would approve "{}"). Refuse rather than guess.
      throw new InternalError(`canonicalJson cannot encode a ${(object as { constructor?: { name?: string } }).constructor?.name ?? 'non-plain object'}; tool inputs must be plain JSON data`);
    }
    const parts: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const encoded = encode((object as Record<string, unknown>)[key], ancestors);
      if (encoded !== undefined) parts.push(`${JSON.stringify(key)}:${encoded}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}
