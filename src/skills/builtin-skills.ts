/**
 * The built-in skills: folders in the package's own `skills/` directory, each a SKILL.md and a
 * tools.ts written exactly like a project's skill. A project turns them on one by one with
 * `skills.builtin` (`[http, memory]` after `mithai init`); a skill of the same name in the
 * project's `skills.paths` replaces the built-in (and start-up says so).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Where the built-in skill folders are (the package's `skills/`). */
export const BUILTIN_SKILLS_DIR = fileURLToPath(new URL('../../skills/', import.meta.url));

/** The names of the built-in skills, each a folder of {@link BUILTIN_SKILLS_DIR}. */
export const BUILTIN_SKILL_NAMES: readonly string[] = ['http', 'kubernetes', 'memory', 'shell'];

/** Whether `name` is a built-in skill. */
export function isBuiltinSkillName(name: string): boolean {
  return BUILTIN_SKILL_NAMES.includes(name);
}

/**
 * Whether `dir` is the folder of built-in skill `name` inside `builtinDir`, after symlinks (a
 * project whose `skills.paths` is the package's own `skills/` finds the built-ins there too).
 */
export function isBuiltinFolder(dir: string, name: string, builtinDir: string = BUILTIN_SKILLS_DIR): boolean {
  if (!isBuiltinSkillName(name)) return false;
  try {
    return realpathSync(dir) === realpathSync(join(builtinDir, name));
  } catch {
    return false;
  }
}
