/**
 * `defineSkill` and `defineTool`: identity functions that give a skill author type inference
 * (each `handle` gets its input typed from its zod schema) and check the definition when the
 * module loads, so a mistake fails `mithai skill validate` instead of a live call.
 *
 * ```ts
 * import { defineSkill, z } from 'mithai';
 * export default defineSkill({
 *   tools: {
 *     get_pods: {
 *       description: 'List pods', human: 'auto', readOnly: true,
 *       input: z.object({ namespace: z.string() }),
 *       handle: async ({ namespace }, ctx) => ({ namespace, pods: [] }),
 *     },
 *   },
 * });
 * ```
 */
import type { z } from 'zod';
import { LEVELS } from '../config/schema.ts';
import { SkillError } from '../errors.ts';
import type { SkillSpec, ToolSpec } from './types.ts';
import { isValidLocalToolName } from './tool-name.ts';

/** Any `z.object(...)`, `z.strictObject(...)` or `z.looseObject(...)` schema. */
export type ObjectSchema = z.ZodObject<z.core.$ZodShape, z.core.$ZodObjectConfig>;

/**
 * The argument of {@link defineSkill}: a {@link SkillSpec} whose tools are typed one by one,
 * so TypeScript infers each tool's input from its own schema.
 */
export type SkillDefinition<T extends Record<string, ObjectSchema>> = Omit<SkillSpec, 'tools'> & {
  tools: { [K in keyof T]: ToolSpec<T[K]> };
};

/**
 * Brand on every object returned by {@link defineSkill}. `Symbol.for` so that the brand is
 * recognised even if the loader and the skill ended up with two copies of this module.
 */
const DEFINED_SKILL = Symbol.for('mithai.defineSkill');

const DECLARED_HUMAN: readonly string[] = [...LEVELS, 'dynamic'];
const TOOL_KEYS = new Set(['description', 'human', 'readOnly', 'untrustedOutput', 'timeoutSeconds', 'input', 'confirmPhrase', 'handle']);
const SKILL_KEYS = new Set(['tools', 'resolveHuman', 'startup']);

/**
 * Define a skill. Returns `spec` itself, branded so the loader knows it was checked.
 *
 * Each tool's `handle` and `confirmPhrase` get their input typed from that tool's `input`
 * schema. Wrapping a tool in {@link defineTool} gives the same typing outside a skill.
 *
 * @throws SkillError (code `skill_invalid`, empty `skillPath` until the loader adds it) when
 *   a tool name is invalid, `input` is not a zod object schema, `human` is not one of
 *   auto/approve/confirm/dynamic, a `dynamic` tool has no `resolveHuman` on the skill,
 *   `handle` is not a function, or the spec has keys this version does not know.
 */
export function defineSkill<T extends Record<string, ObjectSchema>>(spec: SkillDefinition<T>): SkillSpec {
  checkSkillSpec(spec);
  const skill = spec as unknown as SkillSpec;
  if (Object.isExtensible(skill)) {
    Object.defineProperty(skill, DEFINED_SKILL, { value: true, enumerable: false });
    return skill;
  }
  // A frozen spec cannot carry the brand; a branded shallow copy behaves the same.
  const copy = { ...skill };
  Object.defineProperty(copy, DEFINED_SKILL, { value: true, enumerable: false });
  return copy;
}

/**
 * Define one tool, typing `handle` and `confirmPhrase` from the `input` schema. Use it for a
 * tool declared outside the `defineSkill({...})` literal.
 *
 * @throws SkillError on the same mistakes as {@link defineSkill}, except `dynamic` without
 *   `resolveHuman`, which only the skill can check.
 */
export function defineTool<S extends ObjectSchema>(spec: ToolSpec<S>): ToolSpec<S> {
  checkToolSpec(undefined, spec, undefined);
  return spec;
}

/** Whether `value` came from {@link defineSkill}. */
export function isDefinedSkill(value: unknown): value is SkillSpec {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINED_SKILL] === true;
}

/** Whether `value` is a zod 4 object schema, from whichever copy of zod made it. */
export function isZodObjectSchema(value: unknown): value is ObjectSchema {
  // Duck-typed on zod's internal definition rather than `instanceof`, because a skill may
  // have been handed a different copy of zod than the runtime's.
  const def = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def;
  return typeof def === 'object' && def !== null && def.type === 'object' && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

function fail(message: string): never {
  throw new SkillError('', message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}

function checkSkillSpec(spec: unknown): void {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) fail(`defineSkill expects an object, got ${describe(spec)}`);
  const s = spec as Record<string, unknown>;
  const unknownKeys = Object.keys(s).filter((k) => !SKILL_KEYS.has(k));
  if (unknownKeys.length > 0) fail(`defineSkill: unknown key(s) ${unknownKeys.join(', ')}; expected tools, resolveHuman, startup`);
  if (s.resolveHuman !== undefined && typeof s.resolveHuman !== 'function') fail(`resolveHuman must be a function, got ${describe(s.resolveHuman)}`);
  if (s.startup !== undefined && typeof s.startup !== 'function') fail(`startup must be a function, got ${describe(s.startup)}`);
  const tools = s.tools;
  if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) fail(`defineSkill: tools must be an object of tool definitions, got ${describe(tools)}`);
  for (const [name, tool] of Object.entries(tools)) checkToolSpec(name, tool, s.resolveHuman !== undefined);
}

/**
 * Check one tool definition. `name` is undefined for `defineTool` (the name is the key it
 * gets later); `hasResolveHuman` is undefined when the skill is not known yet.
 */
function checkToolSpec(name: string | undefined, tool: unknown, hasResolveHuman: boolean | undefined): void {
  const label = name === undefined ? 'defineTool' : `tool "${name}"`;
  if (name !== undefined && !isValidLocalToolName(name)) {
    fail(`${label}: invalid tool name; use letters, digits, - and _, starting with a letter or digit, without "__"`);
  }
  if (typeof tool !== 'object' || tool === null || Array.isArray(tool)) fail(`${label}: expected a tool definition object, got ${describe(tool)}`);
  const t = tool as Record<string, unknown>;
  // Unknown keys are errors: a typo such as `humna: 'confirm'` would otherwise silently
  // leave the tool at the default level.
  const unknownKeys = Object.keys(t).filter((k) => !TOOL_KEYS.has(k));
  if (unknownKeys.length > 0) fail(`${label}: unknown key(s) ${unknownKeys.join(', ')}; expected ${[...TOOL_KEYS].join(', ')}`);
  if (typeof t.description !== 'string' || t.description.trim() === '') fail(`${label}: description must be a non-empty string`);
  if (!isZodObjectSchema(t.input)) fail(`${label}: input must be a zod object schema (z.object({...})), got ${describeSchema(t.input)}`);
  if (t.human !== undefined && !DECLARED_HUMAN.includes(t.human as string)) {
    fail(`${label}: human must be one of ${DECLARED_HUMAN.join(', ')} (or omitted for approve), got ${describe(t.human)}`);
  }
  if (t.human === 'dynamic' && hasResolveHuman === false) fail(`${label}: human is 'dynamic' but the skill has no resolveHuman`);
  if (typeof t.handle !== 'function') fail(`${label}: handle must be a function, got ${describe(t.handle)}`);
  if (t.confirmPhrase !== undefined && typeof t.confirmPhrase !== 'function') fail(`${label}: confirmPhrase must be a function, got ${describe(t.confirmPhrase)}`);
  for (const flag of ['readOnly', 'untrustedOutput'] as const) {
    if (t[flag] !== undefined && typeof t[flag] !== 'boolean') fail(`${label}: ${flag} must be true or false, got ${describe(t[flag])}`);
  }
  const timeout = t.timeoutSeconds;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    fail(`${label}: timeoutSeconds must be a positive number, got ${describe(timeout)}`);
  }
}

function describeSchema(value: unknown): string {
  const type = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def?.type;
  return typeof type === 'string' ? `a zod ${type} schema` : describe(value);
}
