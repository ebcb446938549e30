/**
 * Turns a tool's zod schema into the `validate` function of a LoadedTool, with messages the
 * model can act on (`namespace: expected string, received number`), and remembers which
 * values it produced so the registry does not validate the same value twice.
 */
import type { ValidationResult } from './types.ts';

/** The part of a zod schema the validator uses; any zod 4 schema has it. */
export interface ParseableSchema {
  safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: { issues: readonly ZodIssueLike[] } };
}

/** The fields of a zod issue that go into a message. */
export interface ZodIssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * Values returned by a tool's validator, keyed to that tool's name. The engine validates a
 * call before asking for approval and then hands the validated value to `invoke`; parsing it
 * a second time could fail for schemas whose output differs from their input (a transform),
 * so `invoke` skips values this map says the same tool already produced.
 */
const validatedBy = new WeakMap<object, string>();

/**
 * A validator for one tool: parses the input with `schema` and returns the parsed value (with
 * defaults applied and unknown keys stripped, as the schema says) or one message naming every
 * failing field.
 */
export function createInputValidator(toolName: string, schema: ParseableSchema): (input: unknown) => ValidationResult {
  return (input) => {
    let result: ReturnType<ParseableSchema['safeParse']>;
    try {
      result = schema.safeParse(input);
    } catch (err) {
      // zod throws (rather than returning issues) for async refinements in a sync parse.
      return { ok: false, error: `the input schema of ${toolName} could not check this input: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!result.success) return { ok: false, error: formatZodIssues(result.error.issues) };
    if (typeof result.data === 'object' && result.data !== null) validatedBy.set(result.data, toolName);
    return { ok: true, value: result.data };
  };
}

/** Whether `value` was produced by the validator of the tool named `toolName`. */
export function wasValidatedBy(toolName: string, value: unknown): boolean {
  return typeof value === 'object' && value !== null && validatedBy.get(value) === toolName;
}

/**
 * One line per issue, joined with `; `: `path: message`, where the path reads like code
 * (`items[0].name`) and the root is `(input)`. zod's generic "Invalid input: " prefix is
 * dropped because the caller already says the input was invalid.
 */
export function formatZodIssues(issues: readonly ZodIssueLike[]): string {
  if (issues.length === 0) return 'input is invalid';
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`).join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(input)' : out;
}
