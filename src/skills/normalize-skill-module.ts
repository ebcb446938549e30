/**
 * Recognises which of the two module shapes a skill's tools file has and normalises it:
 * `export default defineSkill({...})`, or the Python mithai shape (`TOOLS` + `handle`).
 */
import { SkillError } from '../errors.ts';
import { defineSkill, isDefinedSkill } from './define-skill.ts';
import type { NormalizeOptions, NormalizedModule } from './normalized-module.ts';
import { toolsFromDefineSkill } from './tools-from-define-skill.ts';
import { toolsFromPythonShape } from './tools-from-python-shape.ts';

/**
 * Normalise an imported skill module namespace.
 * @throws SkillError (carrying `options.modulePath`) when the module has neither shape, has
 *   both, or defines something invalid.
 */
export function normalizeSkillModule(mod: Record<string, unknown>, options: NormalizeOptions): NormalizedModule {
  const hasDefault = mod.default !== undefined;
  const hasTools = mod.TOOLS !== undefined;
  if (hasDefault && hasTools) {
    // Guessing which one the author meant could pick the one with the weaker levels.
    throw new SkillError(options.modulePath, 'exports both a default export and TOOLS; use either `export default defineSkill({...})` or the TOOLS + handle shape');
  }
  if (hasTools) return toolsFromPythonShape(mod, options);
  if (!hasDefault) {
    const hint = typeof mod.handle === 'function' ? ' (it has handle but no TOOLS)' : '';
    throw new SkillError(options.modulePath, `exports neither \`export default defineSkill({...})\` nor TOOLS + handle${hint}`);
  }
  const spec = checkedSpec(mod.default, options.modulePath);
  return { tools: toolsFromDefineSkill(spec, options), resolveHuman: spec.resolveHuman, startup: spec.startup };
}

function checkedSpec(value: unknown, modulePath: string) {
  if (isDefinedSkill(value)) return value;
  if (typeof value !== 'object' || value === null || !('tools' in value)) {
    throw new SkillError(modulePath, 'the default export is not a skill; write `export default defineSkill({ tools: {...} })`');
  }
  // A plain object that looks like a spec still gets every check defineSkill makes.
  try {
    return defineSkill(value as Parameters<typeof defineSkill>[0]);
  } catch (err) {
    throw relocated(err, modulePath);
  }
}

/** A SkillError from defineSkill knows no path yet; give it the module's. */
export function relocated(err: unknown, modulePath: string): unknown {
  if (err instanceof SkillError && err.skillPath === '') return new SkillError(modulePath, err.message, { cause: err, code: err.code });
  return err;
}
