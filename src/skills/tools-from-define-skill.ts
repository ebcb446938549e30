/**
 * Normalises a `defineSkill({...})` module (the default export) into LoadedTools.
 */
import { SkillError, errorMessage } from '../errors.ts';
import type { LoadedTool, SkillSpec, ToolSpec } from './types.ts';
import type { ObjectSchema } from './define-skill.ts';
import { createInputValidator } from './input-validator.ts';
import type { NormalizeOptions } from './normalized-module.ts';
import { canonicalToolName } from './normalized-module.ts';
import { jsonSchemaFromZod } from './zod-json-schema.ts';

/**
 * The LoadedTools of a checked {@link SkillSpec}.
 * @throws SkillError naming the module and the tool when a full tool name is too long or an
 *   input schema cannot be expressed as JSON Schema.
 */
export function toolsFromDefineSkill(spec: SkillSpec, options: NormalizeOptions): LoadedTool[] {
  return Object.entries(spec.tools).map(([localName, tool]) => loadedTool(localName, tool, options));
}

function loadedTool(localName: string, spec: ToolSpec, options: NormalizeOptions): LoadedTool {
  const name = canonicalToolName(options, localName);
  // defineSkill checked that `input` is a zod object schema.
  const schema = spec.input as unknown as ObjectSchema;
  let inputSchema: Record<string, unknown>;
  try {
    inputSchema = jsonSchemaFromZod(schema);
  } catch (err) {
    throw new SkillError(options.modulePath, `tool "${localName}": its input schema cannot be sent to the model as JSON Schema: ${errorMessage(err)}`, { cause: err });
  }
  const { confirmPhrase, handle } = spec;
  return {
    name,
    skill: options.skill,
    localName,
    description: spec.description,
    declared: spec.human,
    readOnly: spec.readOnly === true,
    untrustedOutput: spec.untrustedOutput === true,
    timeoutMs: spec.timeoutSeconds !== undefined ? Math.round(spec.timeoutSeconds * 1000) : options.defaultTimeoutMs,
    inputSchema,
    validate: createInputValidator(name, schema),
    confirmPhrase: (input) => {
      if (confirmPhrase) {
        // A phrase function that throws or answers nonsense falls back to the tool name:
        // the approver must still type something deliberate.
        try {
          const phrase: unknown = confirmPhrase(input);
          if (typeof phrase === 'string' && phrase.trim() !== '') return phrase;
        } catch {
          // fall through to the tool name
        }
      }
      return localName;
    },
    // async, so a handler that throws synchronously still yields a rejected promise.
    handle: async (input, ctx) => handle(input, ctx),
  };
}
