/**
 * Finds skill folders: each entry of `skills.paths` is a folder holding skill folders, and a
 * skill folder is one with a SKILL.md (plus an optional tools.ts or tools.js).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import type { Logger } from 'pino';
import { SkillError, errorMessage } from '../errors.ts';

/** A folder that looks like a skill; nothing in it has been read or run yet. */
export interface SkillFolder {
  /** Absolute path of the skill folder. */
  dir: string;
  /** Absolute path of its SKILL.md (or skill.md). */
  skillMdPath: string;
  /** Absolute path of tools.ts, else tools.js, else undefined (a prompt-only skill). */
  modulePath: string | undefined;
}

const SKILL_MD_NAMES = ['SKILL.md', 'skill.md'];
/** tools.ts wins over tools.js when both exist (the .js is usually a stale build). */
const MODULE_NAMES = ['tools.ts', 'tools.js'];

/**
 * The skill folders under `paths`, in path order and then by folder name, so loading is
 * deterministic. Folders starting with `.` or `_` are skipped, as in Python mithai.
 * A missing `./skills` (the default) is not an error; any other missing path is.
 */
export function discoverSkillFolders(paths: readonly string[], logger: Logger): { folders: SkillFolder[]; errors: SkillError[] } {
  const folders: SkillFolder[] = [];
  const errors: SkillError[] = [];
  const seen = new Set<string>();
  for (const raw of paths) {
    const root = resolve(raw);
    // The same folder listed twice would make every skill in it a duplicate of itself.
    if (seen.has(root)) continue;
    seen.add(root);
    let entries: string[];
    try {
      if (!statSync(root).isDirectory()) {
        errors.push(new SkillError(root, `skills path "${raw}" is not a folder; each entry of skills.paths must be a folder that holds skill folders`, { code: 'skill_path_invalid' }));
        continue;
      }
      entries = readdirSync(root).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (isDefaultPath(raw)) logger.debug({ path: root, reason: 'the default skills folder does not exist' }, 'skill.folder_skipped');
        else errors.push(new SkillError(root, `skills path "${raw}" does not exist (resolved to ${root}); create it or remove it from skills.paths`, { code: 'skill_path_missing' }));
      } else {
        errors.push(new SkillError(root, `cannot read skills path "${raw}": ${errorMessage(err)}`, { code: 'skill_path_invalid' }));
      }
      continue;
    }
    if (findFile(root, SKILL_MD_NAMES)) {
      errors.push(new SkillError(root, `skills path "${raw}" is itself a skill folder; list the folder that contains it instead`, { code: 'skill_path_invalid' }));
      continue;
    }
    for (const entry of entries) {
      if (entry.startsWith('.') || entry.startsWith('_')) continue;
      const dir = join(root, entry);
      if (!isDirectory(dir)) continue;
      const skillMdPath = findFile(dir, SKILL_MD_NAMES);
      const modulePath = findFile(dir, MODULE_NAMES);
      if (!skillMdPath) {
        // A tools file without SKILL.md is a half-made skill, not an unrelated folder.
        if (modulePath) errors.push(new SkillError(dir, 'has a tools file but no SKILL.md; add SKILL.md with name and description front matter'));
        else logger.debug({ dir, reason: 'no SKILL.md; not a skill' }, 'skill.folder_skipped');
        continue;
      }
      folders.push({ dir, skillMdPath, modulePath });
    }
  }
  return { folders, errors };
}

function isDefaultPath(raw: string): boolean {
  return normalize(raw).replace(/[\\/]+$/, '') === 'skills';
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function findFile(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path) && !isDirectory(path)) return path;
  }
  return undefined;
}
