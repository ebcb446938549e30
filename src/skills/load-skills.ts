/**
 * Loads every skill under `skills.paths`: finds the folders, reads SKILL.md, applies the
 * `skills.enabled` filter, imports the tools module and normalises it.
 *
 * One broken skill never stops the others: each failure becomes a SkillError that names the
 * skill's folder or module, and the caller decides whether to start anyway (`mithai run`
 * refuses; `mithai skill validate` lists them all).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { SkillError, errorMessage } from '../errors.ts';
import type { LoadedSkill } from './types.ts';
import type { SkillFolder } from './discover-skill-folders.ts';
import { discoverSkillFolders } from './discover-skill-folders.ts';
import { importSkillModule } from './import-skill-module.ts';
import { normalizeSkillModule } from './normalize-skill-module.ts';
import { parseSkillMd } from './parse-skill-md.ts';
import { isValidSkillName } from './tool-name.ts';

/** What {@link loadSkills} needs. */
export interface LoadSkillsOptions {
  /** Folders that hold skill folders (`skills.paths`); relative paths resolve against the cwd. */
  paths: string[];
  /** When set, only skills with these names load (`skills.enabled`); others are not even imported. */
  enabled?: string[];
  /** Time limit for tools that set none (`agent.tool_timeout_seconds` × 1000). */
  defaultTimeoutMs: number;
  logger: Logger;
}

/** The skills that loaded, and one error per skill (or path) that did not. */
export interface LoadSkillsResult {
  skills: LoadedSkill[];
  errors: SkillError[];
}

/**
 * Load the skills under `options.paths`. Never throws for a broken skill; see the result's
 * `errors`. A skill's name is its SKILL.md `name` when that is a valid skill name, else its
 * folder name. Two skills with one name: the second is an error naming both folders.
 */
export async function loadSkills(options: LoadSkillsOptions): Promise<LoadSkillsResult> {
  const { logger } = options;
  const { folders, errors } = discoverSkillFolders(options.paths, logger);
  const enabled = options.enabled ? new Set(options.enabled) : undefined;
  const found = new Set<string>();
  const loadedFrom = new Map<string, string>();
  const skills: LoadedSkill[] = [];

  for (const folder of folders) {
    let header: SkillHeader;
    try {
      header = readHeader(folder, logger);
    } catch (err) {
      errors.push(asSkillError(err, folder.skillMdPath));
      continue;
    }
    found.add(header.name);
    // Filter before importing: a disabled skill's code must not run at all.
    if (enabled && !enabled.has(header.name)) {
      logger.debug({ skill: header.name, dir: folder.dir }, 'skill not in skills.enabled; skipped');
      continue;
    }
    const first = loadedFrom.get(header.name);
    if (first !== undefined) {
      errors.push(new SkillError(folder.dir, `duplicate skill name "${header.name}": also defined by ${first}; rename one of them`, { code: 'skill_duplicate' }));
      continue;
    }
    loadedFrom.set(header.name, folder.dir);
    try {
      skills.push(await loadSkill(folder, header, options));
      logger.debug({ skill: header.name, dir: folder.dir }, 'skill loaded');
    } catch (err) {
      errors.push(asSkillError(err, folder.modulePath ?? folder.dir));
    }
  }

  for (const name of enabled ?? []) {
    if (!found.has(name)) {
      errors.push(new SkillError('skills.enabled', `skills.enabled lists "${name}" but no skill of that name was found in ${options.paths.join(', ')}`, { code: 'skill_not_found' }));
    }
  }
  return { skills, errors };
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
    else logger.warn({ dir: folder.dir, name: md.name }, 'SKILL.md name is not a valid skill name; using the folder name');
  }
  if (!isValidSkillName(name)) {
    throw new SkillError(folder.dir, `"${name}" is not a valid skill name; use lowercase letters, digits, - and _, starting with a letter or digit, without "__" (set name in SKILL.md or rename the folder)`);
  }
  if (md.description === '') logger.warn({ skill: name, dir: folder.dir }, 'SKILL.md has no description');
  return { name, description: md.description, instructions: md.instructions };
}

async function loadSkill(folder: SkillFolder, header: SkillHeader, options: LoadSkillsOptions): Promise<LoadedSkill> {
  const base = { name: header.name, description: header.description, instructions: header.instructions, dir: folder.dir, modulePath: folder.modulePath };
  if (folder.modulePath === undefined) return { ...base, tools: [], resolveHuman: undefined, startup: undefined };
  const mod = await importSkillModule(folder.modulePath);
  const normalized = normalizeSkillModule(mod, { skill: header.name, modulePath: folder.modulePath, defaultTimeoutMs: options.defaultTimeoutMs });
  return { ...base, ...normalized };
}

function asSkillError(err: unknown, path: string): SkillError {
  return err instanceof SkillError ? err : new SkillError(path, errorMessage(err), { cause: err });
}
