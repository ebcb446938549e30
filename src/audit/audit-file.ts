/**
 * The audit file on disk (`memory/approvals.json`, JSON Lines): reading it whole or just its
 * last line, the careful writes (whole buffers, fsync of the file and its folder), and saving
 * or moving bytes aside next to it. Every failure becomes an {@link AuditError} naming the path.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError, errorMessage } from '../errors.ts';
import { parseRecordLine } from './audit-chain.ts';

/** How far back one read goes when looking for the start of the last line. */
const TAIL_CHUNK = 64 * 1024;

/** An audit file as read whole (start-up, verify): its complete lines, and a torn tail if it has one. */
export interface AuditFileContents {
  /** False when there is no file at the path. */
  exists: boolean;
  /** Complete record lines, without newlines, not including a torn tail; line i is seq i + 1. */
  lines: string[];
  /** The torn last line (no newline, or a last line that is not a record), if any. */
  torn: { offset: number; bytes: Buffer } | null;
}

/** The file's last line and its seq (0 and '' for an empty file), or that it is torn. */
export type AuditFileTail = { torn: false; seq: number; line: string } | { torn: true };

/**
 * Read a whole audit file into complete lines and a torn tail, if any (start-up and verify
 * only: appends never read more than the last line).
 *
 * @throws AuditError when the path exists but cannot be read as a file.
 */
export function readAuditFile(path: string): AuditFileContents {
  if (statIfExists(path) === undefined) return { exists: false, lines: [], torn: null };
  const bytes = withFd(path, 'r', (fd) => {
    const buffer = Buffer.alloc(fstatSync(fd).size);
    return buffer.subarray(0, readFully(fd, buffer, 0));
  });
  const lines: string[] = [];
  const offsets: number[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a, start); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    lines.push(decodeLine(bytes.subarray(start, nl)));
    offsets.push(start);
    start = nl + 1;
  }
  if (start < bytes.length) {
    // No newline at the end: every line is written with its newline in one write, so this is
    // an interrupted write.
    return { exists: true, lines, torn: { offset: start, bytes: bytes.subarray(start) } };
  }
  const last = lines.length - 1;
  if (last >= 0 && !parseRecordLine(lines[last]!).ok) {
    // A complete last line that is not a record (say zeros left by a power loss) is torn too.
    // Only the last line: damage anywhere else is not an interrupted write.
    const offset = offsets[last]!;
    lines.pop();
    return { exists: true, lines, torn: { offset, bytes: bytes.subarray(offset) } };
  }
  return { exists: true, lines, torn: null };
}

/** The last line of the open file `fd` of `size` bytes and its seq, or that it is torn. */
export function readAuditTail(fd: number, size: number): AuditFileTail {
  if (size === 0) return { torn: false, seq: 0, line: '' };
  const { line, endsWithNewline } = readLastLine(fd, size);
  if (!endsWithNewline) return { torn: true };
  const parsed = parseRecordLine(line);
  if (!parsed.ok) return { torn: true };
  return { torn: false, seq: parsed.record.seq, line };
}

/** Read backwards from the end until the start of the last line. */
function readLastLine(fd: number, size: number): { line: string; endsWithNewline: boolean } {
  let buffer = Buffer.alloc(0);
  let position = size;
  let endsWithNewline: boolean | undefined;
  while (position > 0) {
    const length = Math.min(TAIL_CHUNK, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    buffer = Buffer.concat([chunk.subarray(0, readFully(fd, chunk, position)), buffer]);
    endsWithNewline ??= buffer[buffer.length - 1] === 0x0a;
    const end = endsWithNewline ? buffer.length - 1 : buffer.length;
    const start = end === 0 ? -1 : buffer.lastIndexOf(0x0a, end - 1);
    if (start !== -1) return { line: decodeLine(buffer.subarray(start + 1, end)), endsWithNewline };
  }
  const end = endsWithNewline ? buffer.length - 1 : buffer.length;
  return { line: decodeLine(buffer.subarray(0, end)), endsWithNewline: endsWithNewline ?? false };
}

/**
 * One line's bytes as text. Lines are compared with the database's copy as text, and lossy
 * decoding would turn invalid UTF-8 into U+FFFD, which could equal a record's line that does
 * contain U+FFFD although the bytes differ. Such a line is no record's line (records are
 * written as UTF-8), so it is marked to compare unequal to every record and not parse as one.
 */
function decodeLine(raw: Buffer): string {
  const text = raw.toString('utf8');
  return Buffer.from(text, 'utf8').equals(raw) ? text : `${NOT_UTF8}${text}`;
}

/** Prefix of a line whose bytes are not valid UTF-8 (see {@link decodeLine}); never starts a JSON text. */
const NOT_UTF8 = '\uFFFD(not valid UTF-8) ';

/** Fill `buffer` from `fd` at `position` (a read may return less); returns the bytes read, fewer at end of file. */
function readFully(fd: number, buffer: Buffer, position: number): number {
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}

/**
 * The stats of `path`, or undefined when nothing is there.
 *
 * @throws AuditError when the path cannot be inspected.
 */
export function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditError(`audit log ${path} cannot be inspected (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
  }
}

/**
 * Open `path` (`a+` creates it 0600), run `body`, always close.
 *
 * @throws AuditError when the path cannot be opened as a regular file, or `body` throws
 *   (anything but an AuditError is wrapped as a failed write).
 */
export function withFd<T>(path: string, flags: 'a+' | 'r+' | 'r', body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error('it is not a regular file');
    }
  } catch (err) {
    throw new AuditError(`audit log ${path} cannot be opened (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
  }
  try {
    return body(fd);
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError(`audit log ${path} could not be written (${errorMessage(err)}); the file was not brought up to date`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** Write all of `bytes` at the file position of `fd` (a write may take less). */
export function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** fsync the folder holding `path`, so a created or renamed entry survives power loss. */
export function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the file's own fsync still happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `bytes` to a new file `<log>.<kind>-<time>` next to the log at `path` (never
 * overwriting one), fsync'd.
 *
 * @returns the path of the new file.
 * @throws AuditError when the file cannot be created; then nothing was saved.
 */
export function saveAside(path: string, kind: 'torn', bytes: Buffer, now: () => Date): string {
  const target = asideName(path, kind, now);
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o600);
  } catch (err) {
    throw new AuditError(`audit log ${path}: cannot create ${target} to save the torn bytes in (${errorMessage(err)}); nothing was cut`, { cause: err });
  }
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(target);
  return target;
}

/**
 * Rename the log at `path` to `<log>.<kind>-<time>` next to it; the next flush starts a fresh
 * copy from the database.
 *
 * @returns the new path of the old file.
 * @throws AuditError when it cannot be renamed; then nothing was changed.
 */
export function moveAside(path: string, kind: 'replaced' | 'ahead', now: () => Date): string {
  const target = asideName(path, kind, now);
  try {
    renameSync(path, target);
  } catch (err) {
    throw new AuditError(`audit log ${path}: cannot move it aside to ${target} (${errorMessage(err)}); nothing was changed`, { cause: err });
  }
  fsyncDir(target);
  return target;
}

/** `<log>.<kind>-<time>`, with a counter if that name is taken. */
function asideName(path: string, kind: string, now: () => Date): string {
  const stamp = now().toISOString().replace(/:/g, '-');
  for (let n = 0; ; n++) {
    const candidate = `${path}.${kind}-${stamp}${n === 0 ? '' : `-${n}`}`;
    if (statIfExists(candidate) === undefined) return candidate;
  }
}
