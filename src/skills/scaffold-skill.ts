/**
 * `mithai skill create NAME`: writes a new skill folder from the templates in
 * templates/skill/ (plain files with a `{{name}}` placeholder, kept apart from this code).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkillError } from '../errors.ts';
import { projectTsconfig } from './skill-typecheck.ts';
import { isValidSkillName } from './tool-name.ts';

/** Files written for a new skill, in the order they are written. */
const TEMPLATE_FILES = ['SKILL.md', 'tools.ts'];
const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/skill/', import.meta.url));

/**
 * Create `<skillsDir>/<name>/SKILL.md` and `tools.ts`: a skill with one read-only `auto`
 * tool and one `approve` tool, ready to load. `skillsDir` is created if needed, and a
 * `tsconfig.json` beside it when the project has none.
 *
 * @param options.force Overwrite the two files in an existing folder (other files are kept).
 * @returns The absolute paths written.
 * @throws SkillError when `name` is not a valid skill name (code `skill_name_invalid`) or the
 *   folder exists and `force` is not set (code `skill_exists`).
 */
export function scaffoldSkill(skillsDir: string, name: string, options: { force?: boolean } = {}): string[] {
  const dir = resolve(skillsDir, name);
  if (!isValidSkillName(name)) {
    throw new SkillError(dir, `"${name}" is not a valid skill name; use lowercase letters, digits, - and _, starting with a letter or digit, without "__"`, { code: 'skill_name_invalid' });
  }
  if (existsSync(dir) && !options.force) {
    throw new SkillError(dir, `${dir} already exists; choose another name or pass --force to overwrite its SKILL.md and tools.ts`, { code: 'skill_exists' });
  }
  // Read every template before writing anything, so a missing template leaves no half skill.
  const contents = TEMPLATE_FILES.map((file) => readFileSync(join(TEMPLATE_DIR, file), 'utf8').replaceAll('{{name}}', name));
  mkdirSync(dir, { recursive: true });
  const written = TEMPLATE_FILES.map((file, i) => {
    const path = join(dir, file);
    writeFileSync(path, contents[i]!);
    return path;
  });
  // An editor needs a tsconfig.json to resolve `mithai` in a project without node_modules;
  // the project's own (beside its skills folder) is never replaced.
  const project = dirname(resolve(skillsDir));
  const tsconfig = join(project, 'tsconfig.json');
  if (!existsSync(tsconfig)) {
    writeFileSync(tsconfig, projectTsconfig(`${relative(project, resolve(skillsDir)) || '.'}/**/*.ts`));
    written.push(tsconfig);
  }
  return written;
}
