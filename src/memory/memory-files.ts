/**
 * The memory folder: `MEMORY.md` (injected into every conversation) and `daily/YYYY-MM-DD.md`
 * notes. This module is the only one that reads or writes those files. Text written here is
 * redacted first, because memory is injected back into prompts and checked into git.
 *
 * Skills get this object as `ctx.memory`. MEMORY.md and the daily notes have names it builds
 * itself. Other files (`readFile`, `writeFile`, `listFiles`) are named by the caller, and those
 * names pass the rules of memory-paths.ts first (relative, no `..`, no hidden parts, never the
 * audit log, a secrets file or, for writing, `daily/`). Every file is opened part by part
 * without following a link, and it refuses
 * a file that is not what its name says: a symbolic link (MEMORY.md, `daily/` or the note), a
 * hard link (more than one name for the file), something other than a regular file, or the
 * audit log (`approvals.json`, compared by device and inode after opening, so no link or
 * rename race can make it read or append to the audit log). The memory folder is checked into
 * git, so a link planted there is a real way in, not only a tool's trick.
 *
 * This limits the API, not the skill: a skill's own code runs with the process's rights and
 * can open any file the process can (docs/skills.md).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { StateError, errorMessage } from '../errors.ts';
import type { SkillMemory } from '../skills/types.ts';
import { MAX_DEPTH, MemoryPathError, readablePath, writablePath, type MemoryPath } from './memory-paths.ts';

/** Anything that can redact text (the runtime passes its Redactor). */
export interface TextRedactor {
  redact(text: string): string;
}

/** The audit log's name in the memory folder; never opened from here. */
const AUDIT_FILE = 'approvals.json';

/** Largest memory file a tool may read. */
export const MAX_READ_BYTES = 1024 * 1024;
/** Largest memory file a tool may write. */
export const MAX_WRITE_BYTES = 256 * 1024;
/** Most files {@link MemoryFiles.listFiles} returns. */
export const MAX_LISTED = 500;

/** O_NOFOLLOW where the platform has it (not on Windows, where the lstat check stands alone). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/**
 * O_NONBLOCK: opening a FIFO (or a device) planted at a memory name returns at once instead of
 * blocking the whole process in open(2); the opened file is then refused as not a regular file.
 * No effect on regular files.
 */
const NONBLOCK = constants.O_NONBLOCK ?? 0;

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
    const fd = this.#open(path, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
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
    const fd = this.#open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW | NONBLOCK, 0o600);
    try {
      this.#checkOpened(file, fd);
      const bytes = Buffer.from(`\n### ${now.toISOString()}\n${this.#redactor.redact(text).trim()}\n`, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The text of a file in the memory folder (`runbooks/db.md`), at most {@link MAX_READ_BYTES}.
   * @throws MemoryPathError for a refused name; StateError (`memory_refused`) for a link, a
   *   folder, a hard link or the audit log; StateError (`memory_not_found`) when it does not exist
   */
  async readFile(path: string): Promise<string> {
    const checked = readablePath(path);
    const file = this.#walk(checked, false);
    const before = lstatIfExists(file);
    if (before === undefined) throw new StateError(`memory file ${checked.path} does not exist`, { code: 'memory_not_found' });
    this.#refuseLink(file, before);
    const fd = this.#open(file, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
    try {
      this.#checkOpened(file, fd);
      this.#checkInside(file, fd);
      const size = fstatSync(fd).size;
      if (size > MAX_READ_BYTES) throw refused(file, `it is larger than ${MAX_READ_BYTES} bytes`);
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Replace (or create) a text file in the memory folder with `content`, redacted. Written to a
   * new file beside it and renamed over it, so a hard link or a link planted at the name is
   * replaced, never written through.
   * @throws MemoryPathError for a refused name (the audit log, `daily/`, secrets files, not
   *   text, a secret in the name); StateError (`memory_refused`) for links and non-files on the way
   */
  async writeFile(path: string, content: string): Promise<void> {
    const checked = writablePath(path);
    // A name is written to disk as it is (a folder entry): one with a secret in it is refused.
    const shown = this.#redactor.redact(path);
    if (shown !== path) throw new MemoryPathError(shown, 'it contains a secret, and a file name is never redacted');
    const text = this.#redactor.redact(content);
    if (Buffer.byteLength(text, 'utf8') > MAX_WRITE_BYTES) throw refused(join(this.dir, checked.path), `the content is larger than ${MAX_WRITE_BYTES} bytes`);
    const file = this.#walk(checked, true);
    const existing = lstatIfExists(file);
    if (existing !== undefined) {
      this.#refuseLink(file, existing);
      if (!existing.isFile()) throw refused(file, 'it is not a regular file');
    }
    const parent = file.slice(0, file.length - checked.parts[checked.parts.length - 1]!.length - 1);
    const temp = join(parent, `.${randomBytes(6).toString('hex')}.tmp`);
    const fd = this.#open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
    // Before a byte is written: the new file must be inside (a folder on the way swapped for a
    // link after the walk would have put it elsewhere; it is removed again there).
    try {
      this.#checkInside(temp, fd);
    } catch (err) {
      const where = openedPath(fd);
      closeSync(fd);
      if (where !== undefined) unlinkSync(where);
      throw err;
    }
    try {
      const bytes = Buffer.from(text, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(temp);
      throw err;
    }
    closeSync(fd);
    renameSync(temp, file);
  }

  /**
   * The readable files of the memory folder (relative paths, sorted), without links, hidden
   * files, the audit log or secrets files; at most {@link MAX_LISTED} of them.
   */
  async listFiles(): Promise<string[]> {
    const found: string[] = [];
    const visit = (dir: string, prefix: string[], depth: number): void => {
      let entries: string[];
      try {
        entries = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const entry of entries) {
        if (found.length >= MAX_LISTED) return;
        const parts = [...prefix, entry];
        const stats = lstatIfExists(join(dir, entry));
        if (stats === undefined || stats.isSymbolicLink()) continue;
        if (stats.isDirectory()) {
          if (depth < MAX_DEPTH && !entry.startsWith('.')) visit(join(dir, entry), parts, depth + 1);
          continue;
        }
        if (!stats.isFile() || stats.nlink > 1) continue;
        try {
          found.push(readablePath(parts.join('/')).path);
        } catch {
          // A name the rules refuse (the audit log, a secrets file, a hidden file) is not listed.
        }
      }
    };
    visit(this.dir, [], 1);
    return found;
  }

  /**
   * The absolute path of `checked`, each folder on the way a real folder (not a link); with
   * `create`, missing folders are made (0700).
   */
  #walk(checked: MemoryPath, create: boolean): string {
    let dir = this.dir;
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const part of checked.parts.slice(0, -1)) {
      dir = join(dir, part);
      let stats = lstatIfExists(dir);
      if (stats === undefined && create) {
        mkdirSync(dir, { mode: 0o700 });
        stats = lstatSync(dir);
      }
      if (stats === undefined) throw new StateError(`memory file ${checked.path} does not exist`, { code: 'memory_not_found' });
      this.#refuseLink(dir, stats);
      if (!stats.isDirectory()) throw refused(dir, 'it is not a folder');
    }
    return join(dir, checked.parts[checked.parts.length - 1]!);
  }

  /** After symlinks, the opened file must still be inside the memory folder (a folder swapped for a link mid-way). */
  #checkInside(path: string, fd: number): void {
    const root = realpathSync(this.dir);
    // The file actually opened (Linux: /proc/self/fd), not the path looked up again, which a
    // swap could point back inside by now.
    const real = openedPath(fd) ?? realpathSync(path);
    if (!real.startsWith(root + sep)) throw refused(path, 'it resolves outside the memory folder');
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
      // ENXIO: a FIFO with no reader, opened for writing with O_NONBLOCK.
      if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw refused(path, 'it is not a regular file');
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

/** Where an open file descriptor points (Linux), or undefined where /proc is not there. */
function openedPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
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
