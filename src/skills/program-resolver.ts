/**
 * Which file a program name stands for, found the way `execvp` would but against a search path
 * the caller chose (never the runtime's own `PATH`), and identified after symlinks, so two
 * spellings of one binary (`systemctl`, `/bin/systemctl`, `/usr/bin/../bin/systemctl`) compare
 * equal and a look-alike in another folder does not.
 *
 * A program is only found if it is a regular file the process may execute, and neither it nor
 * the folder it is in (as named, or after symlinks) is writable by every user: a binary anyone
 * could have replaced is not the one an operator allowed.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

/** A fixed search path with the usual system folders; the default for commands. */
export const SAFE_SEARCH_PATH: readonly string[] = Object.freeze(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);

/** A program found on disk. */
export interface ResolvedProgram {
  /** The name it goes by: the last part of the path as written (`systemctl`). */
  name: string;
  /** The absolute path found, symlinks not followed: what to execute (multi-call binaries read their name from it). */
  path: string;
  /** The file after every symlink: what identifies the binary. */
  realPath: string;
}

/** The outcome of {@link resolveProgram}: the program, or why it was not found. */
export type ResolveResult = { ok: true; program: ResolvedProgram } | { ok: false; reason: string };

/** Where to look: the folders for a bare name, the folder a relative path starts from. */
export interface ResolveOptions {
  /** Absolute folders, searched in order for a name without `/`. */
  searchPath: readonly string[];
  /** Absolute folder a relative path (`./bin/tool`, `../x`) is resolved against. */
  cwd: string;
}

/**
 * Find `program`: a name without `/` is looked up in `searchPath` (the first folder holding an
 * executable regular file of that name wins, as with `execvp`); a path with `/` is taken as it
 * is, relative to `cwd` if relative. Never throws.
 */
export function resolveProgram(program: string, options: ResolveOptions): ResolveResult {
  if (program === '') return { ok: false, reason: 'the program name is empty' };
  if (program.includes('/')) return check(resolve(options.cwd, program), program);
  for (const dir of options.searchPath) {
    if (!isAbsolute(dir)) continue; // a relative folder would depend on the cwd: never searched
    const candidate = join(dir, program);
    if (isExecutableFile(candidate)) return check(candidate, program);
  }
  return { ok: false, reason: `"${program}" is not an executable file in any folder of ${options.searchPath.join(':')}` };
}

function check(path: string, program: string): ResolveResult {
  if (!isExecutableFile(path)) return { ok: false, reason: `${path} is not an executable file` };
  let realPath: string;
  try {
    realPath = realpathSync(path);
  } catch (err) {
    return { ok: false, reason: `${path} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (isWritableByAll(realPath)) return { ok: false, reason: `${realPath} is writable by every user; such a program is never run` };
  for (const dir of new Set([dirname(path), dirname(realPath)])) {
    if (isWritableByAll(dir)) return { ok: false, reason: `${dir}, the folder of ${program}, is writable by every user; a program there is never run` };
  }
  return { ok: true, program: { name: basename(program), path, realPath } };
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isWritableByAll(path: string): boolean {
  try {
    return (statSync(path).mode & 0o002) !== 0;
  } catch {
    return true; // cannot tell: fail closed
  }
}
