/**
 * Loads every skill under `skills.paths` and the built-ins `skills.builtin` names: finds the
 * folders, reads SKILL.md, applies the `skills.enabled` filter, imports the tools module and
 * normalises it.
 *
 * One broken skill never stops the others: each failure becomes a SkillError that names the
 * skill's folder or module, and the caller decides whether to start anyway (`mithai run`
 * refuses; `mithai skill validate` lists them all).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { SkillError, errorMessage } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import { BUILTIN_SKILL_NAMES, BUILTIN_SKILLS_DIR, isBuiltinFolder, isBuiltinSkillName } from './builtin-skills.ts';
import type { LoadedSkill, SkillOrigin } from './types.ts';
import type { SkillFolder } from './discover-skill-folders.ts';
import { discoverSkillFolders } from './discover-skill-folders.ts';
import { importSkillModule } from './import-skill-module.ts';
import { locateInSource } from './locate-in-source.ts';
import { normalizeSkillModule } from './normalize-skill-module.ts';
import { parseSkillMd } from './parse-skill-md.ts';
import { isValidSkillName } from './tool-name.ts';

/** What {@link loadSkills} needs. */
export interface LoadSkillsOptions {
  /** Folders that hold skill folders (`skills.paths`); relative paths resolve against the cwd. */
  paths: string[];
  /**
   * When set, only skills in `paths` with these names load (`skills.enabled`); others are not
   * even imported. Built-ins are turned on by `builtin` alone.
   */
  enabled?: string[];
  /** Built-in skills to load (`skills.builtin`), unless the project has a skill of the same name. */
  builtin?: readonly string[];
  /** Where the built-in skills are (tests); defaults to the package's `skills/`. */
  builtinDir?: string;
  /** Time limit for tools that set none (`agent.tool_timeout_seconds` × 1000). */
  defaultTimeoutMs: number;
  logger: Logger;
}

/** The skills that loaded, and one error per skill (or path) that did not. */
export interface LoadSkillsResult {
  skills: LoadedSkill[];
  errors: SkillError[];
}

/** The load options a config asks for. */
export function loadOptionsFromConfig(config: Pick<Config, 'skills' | 'agent'>, logger: Logger): LoadSkillsOptions {
  return {
    paths: config.skills.paths,
    ...(config.skills.enabled === undefined ? {} : { enabled: config.skills.enabled }),
    builtin: config.skills.builtin,
    defaultTimeoutMs: config.agent.tool_timeout_seconds * 1000,
    logger,
  };
}

/**
 * Load the skills under `options.paths`, then the built-ins `options.builtin` asks for. Never
 * throws for a broken skill; see the result's `errors`. A skill's name is its SKILL.md `name`
 * when that is a valid skill name, else its folder name. Two skills with one name: the second
 * is an error naming both folders, except that a project skill named like a built-in replaces
 * the built-in (logged as `skill.builtin_overridden`).
 */
export async function loadSkills(options: LoadSkillsOptions): Promise<LoadSkillsResult> {
  const { logger } = options;
  const builtinDir = options.builtinDir ?? BUILTIN_SKILLS_DIR;
  const { folders, errors } = discoverSkillFolders(options.paths, logger);
  const enabled = options.enabled ? new Set(options.enabled) : undefined;
  const wanted = new Set(options.builtin ?? []);
  for (const name of wanted) {
    if (!isBuiltinSkillName(name)) {
      errors.push(new SkillError('skills.builtin', `skills.builtin lists "${name}", which is not a built-in skill; the built-ins are ${BUILTIN_SKILL_NAMES.join(', ')}`, { code: 'skill_not_found' }));
    }
  }
  const found = new Set<string>();
  const loadedFrom = new Map<string, string>();
  const skills: LoadedSkill[] = [];
  const load = async (folder: SkillFolder, header: SkillHeader, origin: SkillOrigin): Promise<void> => {
    const first = loadedFrom.get(header.name);
    if (first !== undefined) {
      errors.push(new SkillError(folder.dir, `duplicate skill name "${header.name}": also defined by ${first}; rename one of them`, { code: 'skill_duplicate' }));
      return;
    }
    loadedFrom.set(header.name, folder.dir);
    try {
      skills.push({ ...(await loadSkill(folder, header, options)), origin });
      logger.debug({ skill: header.name, dir: folder.dir, origin }, 'skill.loaded');
    } catch (err) {
      errors.push(asSkillError(err, folder.modulePath ?? folder.dir, folder.modulePath));
    }
  };

  for (const folder of folders) {
    let header: SkillHeader;
    try {
      header = readHeader(folder, logger);
    } catch (err) {
      errors.push(asSkillError(err, folder.skillMdPath));
      continue;
    }
    // The package's own skills/ listed in skills.paths: its built-ins load only through skills.builtin.
    if (isBuiltinFolder(folder.dir, header.name, builtinDir)) continue;
    found.add(header.name);
    // Filter before importing: a disabled skill's code must not run at all.
    if (enabled && !enabled.has(header.name)) {
      logger.debug({ skill: header.name, dir: folder.dir, reason: 'not in skills.enabled' }, 'skill.skipped');
      continue;
    }
    await load(folder, header, 'project');
  }

  for (const name of BUILTIN_SKILL_NAMES) {
    if (!wanted.has(name)) continue;
    const folder = builtinFolder(builtinDir, name);
    let header: SkillHeader;
    try {
      header = readHeader(folder, logger);
    } catch (err) {
      errors.push(asSkillError(err, folder.skillMdPath));
      continue;
    }
    const project = loadedFrom.get(header.name);
    if (project !== undefined) {
      logger.info({ skill: header.name, dir: project }, 'skill.builtin_overridden');
      skills.find((s) => s.name === header.name)!.overridesBuiltin = true;
      continue;
    }
    await load(folder, header, 'builtin');
  }

  for (const name of enabled ?? []) {
    if (!found.has(name)) {      errors.push(new SkillError('skills.enabled', `skills.enabled lists "${name}" but no skill of that name was found in ${options.paths.join(', ')}`, { code: 'skill_not_found' }));
    }
  }
  return { skills, errors };
}

/** The folder of built-in skill `name` (every built-in has a SKILL.md and a tools.ts). */
function builtinFolder(builtinDir: string, name: string): SkillFolder {
  const dir = join(builtinDir, name);
  return { dir, skillMdPath: join(dir, 'SKILL.md'), modulePath: join(dir, 'tools.ts') };
}

interface SkillHeader {
  name: string;
  description: string;
  instructions: string;
}

function readHeader(folder: SkillFolder, logger: Logger): SkillHeader {
  const md = parseSkillMd(readFileSync(folder.skillMdPath, 'utf8'), folder.skillMdPath);
  const folderName = basename(folder.dir);
  let name = folderName;
  if (md.name !== undefined && md.name !== '') {
    if (isValidSkillName(md.name)) name = md.name;
    else logger.warn({ dir: folder.dir, name: md.name, reason: 'SKILL.md name is not a valid skill name; using the folder name' }, 'skill.name_replaced');
  }
  if (!isValidSkillName(name)) {
    throw new SkillError(folder.dir, `"${name}" is not a valid skill name; use lowercase letters, digits, - and _, starting with a letter or digit, without "__" (set name in SKILL.md or rename the folder)`);
  }
  if (md.description === '') logger.warn({ skill: name, dir: folder.dir, reason: 'SKILL.md has no description' }, 'skill.description_omitted');
  return { name, description: md.description, instructions: md.instructions };
}

async function loadSkill(folder: SkillFolder, header: SkillHeader, options: LoadSkillsOptions): Promise<Omit<LoadedSkill, 'origin'>> {
  const base = { name: header.name, description: header.description, instructions: header.instructions, dir: folder.dir, modulePath: folder.modulePath };
  if (folder.modulePath === undefined) return { ...base, tools: [], resolveHuman: undefined, startup: undefined };
  const mod = await importSkillModule(folder.modulePath);
  const normalized = normalizeSkillModule(mod, { skill: header.name, modulePath: folder.modulePath, defaultTimeoutMs: options.defaultTimeoutMs });
  return { ...base, ...normalized };
}

/** `err` as a SkillError for `path`; a definition error in `modulePath` gets the line it is on (`tools.ts:14`). */
function asSkillError(err: unknown, path: string, modulePath?: string): SkillError {
  const error = err instanceof SkillError ? err : new SkillError(path, errorMessage(err), { cause: err });
  if (modulePath === undefined || error.code !== 'skill_invalid' || /:\d+$/.test(error.skillPath)) return error;
  const line = locateInSource(modulePath, error.message);
  return line === undefined ? error : new SkillError(`${modulePath}:${line}`, error.message, { cause: error.cause, code: error.code });
}
