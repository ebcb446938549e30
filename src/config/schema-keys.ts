/**
 * The keys a zod object schema accepts at a key path (`['human']` → `timeout_seconds`,
 * `approvers`, …), looked up through the wrappers the config schema uses (defaults,
 * prefaults, optionals, preprocessing pipes, records, lists). It lets an "unknown key" error
 * name the key that was probably meant.
 */
import type { z } from 'zod';

/** What the lookup reads of a zod schema's definition (zod 4's `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  out?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The keys of the object schema at `path` inside `schema`, or an empty list when the path
 * does not lead to an object with fixed keys (a record, a scalar, a path zod did not report).
 *
 * @param schema - the root schema (config.yaml's `configSchema`).
 * @param path - the issue path: mapping keys and list indexes.
 */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current === undefined) return [];
    const def = defOf(current);
    if (def.type === 'object' && typeof segment === 'string') current = def.shape?.[segment];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array' && typeof segment === 'number') current = def.element;
    else return [];
    current = current === undefined ? undefined : unwrap(current);
  }
  if (current === undefined) return [];
  const def = defOf(current);
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** The schema under defaults, prefaults, optionals and preprocessing (the pipe's output side). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 20; depth++) {
    const def = defOf(current);
    const next = def.type === 'pipe' ? (defOf(def.out!).type === 'transform' ? def.in : def.out) : def.innerType;
    if (next === undefined) return current;
    current = next;
  }
  return current;
}
