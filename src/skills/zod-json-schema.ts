/**
 * Conversions between zod schemas and the JSON Schema sent to the model. Both directions use
 * the runtime's zod, which is also the zod that `import { z } from 'mithai'` gives skills.
 */
import { z } from 'zod';
import type { ObjectSchema } from './define-skill.ts';

/**
 * The JSON Schema of a tool's input, as the model should see it: the *input* side of the
 * schema (so `.default()` fields are optional and transforms show what the model must send),
 * without `$schema`, and always `type: 'object'`.
 * @throws Error when the schema has parts JSON Schema cannot express (dates, custom types).
 */
export function jsonSchemaFromZod(schema: ObjectSchema): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return { ...rest, type: 'object' };
}

/**
 * A zod schema that validates what `jsonSchema` describes; used for Python-shape tools, which
 * declare a JSON Schema (`input_schema`) instead of a zod object.
 * @throws Error when the JSON Schema uses something zod cannot convert (unknown types,
 *   unresolvable `$ref`s).
 */
export function zodFromJsonSchema(jsonSchema: Record<string, unknown>): z.ZodType {
  return z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
}

/** A copy of a JSON Schema for the model: deep-cloned (the skill cannot change it later), no `$schema`. */
export function modelInputSchema(jsonSchema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = structuredClone(jsonSchema);
  return rest;
}
