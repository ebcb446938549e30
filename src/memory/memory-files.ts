/**
 * The memory folder: `MEMORY.md` (injected into every conversation) and `daily/YYYY-MM-DD.md`
 * notes. This module is the only one that reads or writes those files. Text written here is
 * redacted first, because memory is injected back into prompts and checked into git.
 *
 * Skills get this object as `ctx.memory`. It opens exactly two kinds of file, whose names it
 * builds itself (no caller-supplied path reaches the file system, so `../`, absolute paths,
 * case variants, `approvals.json/` or URL-encoded names have nowhere to go in), and it refuses
 * a file that is not what its name says: a symbolic link (MEMORY.md, `daily/` or the note), a
 * hard link (more than one name for the file), something other than a regular file, or the
 * audit log (`approvals.json`, compared by device and inode after opening, so no link or
 * rename race can make it read or append to the audit log). The memory folder is checked into
 * git, so a link planted there is a real way in, not only a tool's trick.
 *
 * This limits the API, not the skill: a skill's own code runs with the process's rights and
 * can open any file the process can (docs/skills.md).
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StateError, errorMessage } from '../errors.ts';
import type { SkillMemory } from '../skills/types.ts';

/** Anything that can redact text (the runtime passes its Redactor). */
export interface TextRedactor {
  redact(text: string): string;
}

/** The audit log's name in the memory folder; never opened from here. */
const AUDIT_FILE = 'approvals.json';

/** O_NOFOLLOW where the platform has it (not on Windows, where the lstat check stands alone). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** Access to one project's memory folder. */
export class MemoryFiles implements SkillMemory {
  readonly dir: string;
  readonly #redactor: TextRedactor;
  readonly #today: () => Date;

  constructor(dir: string, redactor: TextRedactor, today: () => Date = () => new Date()) {
    this.dir = dir;
    this.#redactor = redactor;
    this.#today = today;
  }

  /** Path of MEMORY.md. */
  get memoryPath(): string {
    return join(this.dir, 'MEMORY.md');
  }

  /** The contents of MEMORY.md, or '' when there is none. */
  async readMemory(): Promise<string> {
    return this.readMemorySync();
  }

  /**
   * Synchronous form of {@link readMemory}, for prompt assembly.
   *
   * @throws StateError (`memory_refused`) when MEMORY.md is a link, not a regular file, or the
   *   audit log.
   */
  readMemorySync(): string {
    const path = this.memoryPath;
    const before = lstatIfExists(path);
    if (before === undefined) return '';
    this.#refuseLink(path, before);
    const fd = this.#open(path, constants.O_RDONLY | NOFOLLOW);
    try {
      this.#checkOpened(path, fd);
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Append a timestamped, redacted entry to today's daily note.
   *
   * @throws StateError (`memory_refused`) when `daily/` or the note is a link or not what it
   *   should be, or the note is the audit log; nothing is written then.
   */
  async appendDailyNote(text: string): Promise<void> {
    const now = this.#today();
    const dir = join(this.dir, 'daily');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dirStats = lstatSync(dir);
    this.#refuseLink(dir, dirStats);
    if (!dirStats.isDirectory()) throw refused(dir, 'it is not a folder');
    const file = join(dir, `${now.toISOString().slice(0, 10)}.md`);
    const existing = lstatIfExists(file);
    if (existing !== undefined) this.#refuseLink(file, existing);
    const fd = this.#open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, 0o600);
    try {
      this.#checkOpened(file, fd);
      const bytes = Buffer.from(`\n### ${now.toISOString()}\n${this.#redactor.redact(text).trim()}\n`, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } finally {
      closeSync(fd);
    }
  }

  #refuseLink(path: string, stats: Stats): void {
    if (stats.isSymbolicLink()) throw refused(path, 'it is a symbolic link');
  }

  #open(path: string, flags: number, mode?: number): number {
    try {
      return openSync(path, flags, mode);
    } catch (err) {
      // ELOOP: the last component became a symbolic link after the lstat (O_NOFOLLOW).
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw refused(path, 'it is a symbolic link');
      throw err;
    }
  }

  /** The open file must be a regular file with one name that is not the audit log. */
  #checkOpened(path: string, fd: number): void {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw refused(path, 'it is not a regular file');
    if (stats.nlink > 1) throw refused(path, `it is a hard link (${stats.nlink} names for one file)`);
    const audit = statIfExists(join(this.dir, AUDIT_FILE));
    if (audit !== undefined && audit.dev === stats.dev && audit.ino === stats.ino) throw refused(path, `it is the audit log (${AUDIT_FILE})`);
  }
}

function refused(path: string, why: string): StateError {
  return new StateError(`memory file ${path} was not opened: ${why}. Memory files must be plain files in the memory folder; replace it with a regular file`, { code: 'memory_refused' });
}

function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`memory file ${path} cannot be inspected (${errorMessage(err)})`, { code: 'memory_refused', cause: err });
  }
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
