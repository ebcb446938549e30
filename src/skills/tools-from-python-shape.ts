/**
 * Normalises a module in the Python mithai shape into LoadedTools:
 *
 * ```js
 * export const TOOLS = [{ name, description, input_schema, human }];
 * export async function handle(name, input, ctx) { … }
 * export function resolveHuman(name, input, ctx) { … }   // optional; `resolve_human` also works
 * export async function startup(ctx) { … }                // optional; gets a StartupContext
 * ```
 *
 * Inputs are validated against `input_schema` (converted with `z.fromJSONSchema`). The
 * confirmation phrase is what Python mithai asked for: the first non-empty string value of the
 * input, else the tool's name.
 */
import { LEVELS } from '../config/schema.ts';
import { SkillError, errorMessage } from '../errors.ts';
import type { DeclaredHuman, LoadedTool, ResolveHuman, StartupContext, ToolContext } from './types.ts';
import { createInputValidator } from './input-validator.ts';
import type { NormalizeOptions, NormalizedModule } from './normalized-module.ts';
import { canonicalToolName } from './normalized-module.ts';
import { isValidLocalToolName } from './tool-name.ts';
import { modelInputSchema, zodFromJsonSchema } from './zod-json-schema.ts';

type PythonHandle = (name: string, input: unknown, ctx: ToolContext) => unknown;

const DECLARED_HUMAN: readonly string[] = [...LEVELS, 'dynamic'];
/** Keys a TOOLS entry may have; the camelCase and snake_case extras map to LoadedTool flags. */
const ENTRY_KEYS = new Set(['name', 'description', 'input_schema', 'human', 'readOnly', 'read_only', 'untrustedOutput', 'untrusted_output', 'timeoutSeconds', 'timeout_seconds']);

/**
 * Normalise a Python-shape module namespace.
 * @throws SkillError naming the module (and the tool) for a missing `handle`, a TOOLS that is
 *   not a list, an invalid or duplicate tool name, an unknown `human` level, `dynamic` without
 *   `resolveHuman`, or an `input_schema` that is not an object schema zod can convert.
 */
export function toolsFromPythonShape(mod: Record<string, unknown>, options: NormalizeOptions): NormalizedModule {
  const fail = (message: string): never => {
    throw new SkillError(options.modulePath, message);
  };
  if (!Array.isArray(mod.TOOLS)) fail('TOOLS must be an array of tool definitions');
  if (typeof mod.handle !== 'function') fail('exports TOOLS but no handle(name, input, ctx) function');
  const resolveHuman = mod.resolveHuman ?? mod.resolve_human;
  if (resolveHuman !== undefined && typeof resolveHuman !== 'function') fail('resolveHuman must be a function');
  if (mod.startup !== undefined && typeof mod.startup !== 'function') fail('startup must be a function');

  const handle = mod.handle as PythonHandle;
  const seen = new Set<string>();
  const tools = (mod.TOOLS as unknown[]).map((entry, index) => {
    const tool = loadedTool(entry, index, handle, resolveHuman !== undefined, options, fail);
    if (seen.has(tool.localName)) fail(`tool "${tool.localName}" is defined twice in TOOLS`);
    seen.add(tool.localName);
    return tool;
  });
  return {
    tools,
    resolveHuman: resolveHuman as ResolveHuman | undefined,
    startup: mod.startup as ((ctx: StartupContext) => void | Promise<void>) | undefined,
  };
}

function loadedTool(entry: unknown, index: number, handle: PythonHandle, hasResolveHuman: boolean, options: NormalizeOptions, fail: (m: string) => never): LoadedTool {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(`TOOLS[${index}] must be an object`);
  const e = entry as Record<string, unknown>;
  const localName = e.name;
  if (typeof localName !== 'string' || !isValidLocalToolName(localName)) {
    return fail(`TOOLS[${index}]: name must be letters, digits, - and _, starting with a letter or digit, without "__" (got ${JSON.stringify(localName)})`);
  }
  const label = `tool "${localName}"`;
  const unknownKeys = Object.keys(e).filter((k) => !ENTRY_KEYS.has(k));
  if (unknownKeys.length > 0) fail(`${label}: unknown key(s) ${unknownKeys.join(', ')}; expected name, description, input_schema, human`);
  if (typeof e.description !== 'string' || e.description.trim() === '') fail(`${label}: description must be a non-empty string`);

  const declared = declaredHuman(e.human, label, fail);
  if (declared === 'dynamic' && !hasResolveHuman) fail(`${label}: human is 'dynamic' but the module exports no resolveHuman`);

  const jsonSchema = e.input_schema;
  if (typeof jsonSchema !== 'object' || jsonSchema === null || Array.isArray(jsonSchema) || (jsonSchema as Record<string, unknown>).type !== 'object') {
    fail(`${label}: input_schema must be a JSON Schema object with type: 'object'`);
  }
  let schema: ReturnType<typeof zodFromJsonSchema>;
  try {
    schema = zodFromJsonSchema(jsonSchema as Record<string, unknown>);
  } catch (err) {
    return fail(`${label}: input_schema cannot be used to validate input: ${errorMessage(err)}`);
  }
  const name = canonicalToolName(options, localName);
  const timeoutSeconds = e.timeoutSeconds ?? e.timeout_seconds;
  if (timeoutSeconds !== undefined && (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)) {
    fail(`${label}: timeoutSeconds must be a positive number`);
  }
  return {
    name,
    skill: options.skill,
    localName,
    description: e.description as string,
    declared,
    readOnly: flag(e.readOnly ?? e.read_only, `${label}: readOnly`, fail),
    untrustedOutput: flag(e.untrustedOutput ?? e.untrusted_output, `${label}: untrustedOutput`, fail),
    timeoutMs: typeof timeoutSeconds === 'number' ? Math.round(timeoutSeconds * 1000) : options.defaultTimeoutMs,
    inputSchema: modelInputSchema(jsonSchema as Record<string, unknown>),
    validate: createInputValidator(name, schema),
    confirmPhrase: (input) => firstStringValue(input) ?? localName,
    handle: async (input, ctx) => handle(localName, input, ctx),
  };
}

/** `human: null` or a missing key means "not declared" (the policy then uses approve). */
function declaredHuman(value: unknown, label: string, fail: (m: string) => never): DeclaredHuman | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !DECLARED_HUMAN.includes(value)) {
    return fail(`${label}: human must be one of ${DECLARED_HUMAN.join(', ')} or null, got ${JSON.stringify(value)}`);
  }
  return value as DeclaredHuman;
}

function flag(value: unknown, label: string, fail: (m: string) => never): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(`${label} must be true or false`);
  return value as boolean;
}

/** Python mithai's confirmation token: the first non-empty string among the input's values. */
function firstStringValue(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  for (const value of Object.values(input)) {
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}
