/**
 * The audit log appender: `memory/approvals.json`, JSON Lines, hash-chained
 * (SECURITY-BASELINE §6).
 *
 * Every append is synchronous and durable: open in append mode, write one line, fsync, close.
 * When `append` returns, the record is on disk; when it throws (AuditError), the caller must
 * not run the tool. That is the whole contract, and why nothing here is async or buffered.
 *
 * The chain head is re-read from the file before every append rather than trusted from memory,
 * so a second mithai process appending to the same file (say `mithai chat` next to
 * `mithai run`) continues the chain instead of forking it, and a file that was truncated or
 * replaced under us is noticed instead of silently restarted.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';
import { computeRecordHash, GENESIS_HASH, parseRecordLine, type ChainHead } from './audit-chain.ts';
import type { AuditEventInput, AuditRecord, AuditSink } from './types.ts';

/** Options for {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Redacts `input` and `reason` before they are written. */
  redactor: Redactor;
  /** Clock for the `time` field (default: the system clock). */
  now?: () => Date;
}

const TAIL_CHUNK = 64 * 1024;

/** Appends hash-chained audit records to a JSON Lines file. */
export class AuditLog implements AuditSink {
  /** Absolute path of the log file. */
  readonly path: string;
  readonly #redactor: Redactor;
  readonly #now: () => Date;
  /** The head as of our last read or write; used to notice truncation or replacement. */
  #head: ChainHead;

  private constructor(path: string, options: AuditLogOptions, head: ChainHead) {
    this.path = path;
    this.#redactor = options.redactor;
    this.#now = options.now ?? (() => new Date());
    this.#head = head;
  }

  /**
   * Open (creating if needed) an audit log and read where its chain ends. The parent directory
   * is created with mode 0700 and the file with mode 0600.
   *
   * @throws AuditError when the file cannot be created or read, or when its last line is not a
   *   valid record. A damaged log is never silently restarted: that would hide the damage.
   */
  static open(path: string, options: AuditLogOptions): AuditLog {
    const absPath = resolve(path);
    try {
      mkdirSync(dirname(absPath), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AuditError(`audit log ${absPath}: cannot create its folder (${errorMessage(err)}); check that the memory path is writable`, { cause: err });
    }
    const head = withFile(absPath, (fd) => readHead(fd, absPath));
    return new AuditLog(absPath, options, head);
  }

  /**
   * Append one record and fsync it.
   *
   * @returns the record as written, with v, seq, time, prev_hash and hash.
   * @throws AuditError when the record cannot be encoded or written, or the file's chain does
   *   not continue from what this log last saw. The caller must then not run the tool.
   */
  append(input: AuditEventInput): AuditRecord {
    const fields = this.#redactedFields(input);
    return withFile(this.path, (fd) => {
      const head = readHead(fd, this.path);
      // Another process may have appended (head ahead of ours): continue from the file. If the
      // file is *behind* what we last saw, records were lost or the file replaced: refuse.
      if (head.seq < this.#head.seq || (head.seq === this.#head.seq && head.hash !== this.#head.hash)) {
        throw new AuditError(
          `audit log ${this.path} was truncated or replaced while mithai was running (it ends at seq ${head.seq}, ` +
            `this process last saw seq ${this.#head.seq}); run \`mithai audit verify\` and restore the file`,
          { code: 'audit_corrupt' },
        );
      }
      const unsigned = { v: 1 as const, seq: head.seq + 1, time: this.#now().toISOString(), ...fields, prev_hash: head.hash };
      const record: AuditRecord = { ...unsigned, hash: computeRecordHash(unsigned) };
      writeAll(fd, Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
      fsyncSync(fd);
      this.#head = { seq: record.seq, hash: record.hash };
      return record;
    });
  }

  /** The caller's fields in a fixed order, with input normalised to JSON and redacted. */
  #redactedFields(input: AuditEventInput): AuditEventInput {
    let normalised: unknown;
    try {
      // A JSON round trip first, so what we hash is exactly what the verifier will parse back.
      const json = JSON.stringify(input.input);
      normalised = json === undefined ? null : (JSON.parse(json) as unknown);
    } catch (err) {
      throw new AuditError(`audit log ${this.path}: the input of ${input.tool} cannot be encoded as JSON (${errorMessage(err)})`, { cause: err });
    }
    return {
      event: input.event,
      approval_id: input.approval_id,
      call_id: input.call_id,
      session: input.session,
      requester: input.requester,
      decider: input.decider,
      tool: input.tool,
      level: input.level,
      level_reason: input.level_reason,
      decision: input.decision,
      fingerprint: input.fingerprint,
      input: this.#redactor.redactDeep(normalised),
      status: input.status,
      reason: input.reason === null ? null : this.#redactor.redact(input.reason),
    };
  }
}

/** Open `path` for read + append (creating it 0600), run `body`, always close. */
function withFile<T>(path: string, body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'a+', 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error('it is not a regular file');
    }
  } catch (err) {
    throw new AuditError(`audit log ${path} cannot be opened for appending (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
  }
  try {
    return body(fd);
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError(`audit log ${path} could not be written (${errorMessage(err)}); the record was not saved`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** The chain head at the end of the file (genesis for an empty file). */
function readHead(fd: number, path: string): ChainHead {
  const size = fstatSync(fd).size;
  if (size === 0) return { seq: 0, hash: GENESIS_HASH };
  const { line, endsWithNewline } = readLastLine(fd, size);
  const damaged = (reason: string): AuditError => {
    const lineNumber = countLines(path, endsWithNewline);
    return new AuditError(
      `audit log ${path} line ${lineNumber} is not a valid record (${reason}); run \`mithai audit verify\`, then move the damaged file aside. ` +
        'mithai will not start a new chain on top of it.',
      { code: 'audit_corrupt' },
    );
  };
  // Every record is written with its newline in one write; a missing newline means an
  // interrupted write, and appending after it would glue two records into one line.
  if (!endsWithNewline) throw damaged('it has no newline at the end, so the last write was interrupted');
  const parsed = parseRecordLine(line);
  if (!parsed.ok) throw damaged(parsed.reason);
  return { seq: parsed.record.seq, hash: parsed.record.hash };
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
    let read = 0;
    while (read < length) {
      const n = readSync(fd, chunk, read, length - read, position + read);
      if (n === 0) break;
      read += n;
    }
    buffer = Buffer.concat([chunk.subarray(0, read), buffer]);
    endsWithNewline ??= buffer[buffer.length - 1] === 0x0a;
    const end = endsWithNewline ? buffer.length - 1 : buffer.length;
    const start = end === 0 ? -1 : buffer.lastIndexOf(0x0a, end - 1);
    if (start !== -1) return { line: buffer.subarray(start + 1, end).toString('utf8'), endsWithNewline };
  }
  const end = endsWithNewline ? buffer.length - 1 : buffer.length;
  return { line: buffer.subarray(0, end).toString('utf8'), endsWithNewline: endsWithNewline ?? false };
}

/** The 1-based number of the last line (only on the error path, so reading it all is fine). */
function countLines(path: string, endsWithNewline: boolean): number {
  try {
    const bytes = readFileSync(path);
    let count = 0;
    for (const byte of bytes) if (byte === 0x0a) count++;
    return endsWithNewline ? count : count + 1;
  } catch {
    return 0;
  }
}
