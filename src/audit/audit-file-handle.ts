/**
 * The audit file as one process holds it open between writes: the descriptor, what this
 * process last wrote at its end, and the fsync that makes those writes survive a power loss.
 *
 * - The descriptor stays open (`a+`, so every write goes to the end), and is dropped when the
 *   path no longer names the file it opened (the file was renamed, replaced or deleted), so a
 *   write never lands in a file nobody reads.
 * - After each of its own writes it keeps the file's size and the bytes of the last line it
 *   wrote. The next write that finds the same size and reads those same bytes back at the end
 *   (one positioned read) knows the file still ends with its own last record, and skips
 *   looking for the start of the last line and parsing it; any other end (another process
 *   appended, someone edited or truncated it) is read and checked in full as usual.
 * - {@link AuditFileHandle.requestSync} fsyncs in the background (libuv's thread pool), within
 *   {@link AUDIT_SYNC_DELAY_MS}, one fsync for all the writes of that window: a write is in the
 *   file (the page cache: it survives the process being killed) when the writer returns, and on
 *   disk within the delay. {@link AuditFileHandle.syncNow} does it at once (start-up, shutdown,
 *   the CLI).
 *
 * Reading and checking the tail, and what the records are, belong to `audit-log.ts`.
 */
import { closeSync, constants, fstatSync, fsync, fsyncSync, openSync, readSync, statSync } from 'node:fs';
import { AuditError, errorMessage } from '../errors.ts';
import { fsyncDir } from './audit-file.ts';

/**
 * The longest a written record waits for the fsync that puts it on disk. The database's commit,
 * synced before anything acts on a record, is the durable copy; this only bounds how far behind
 * the disk the file may be after a power loss (the start-up check writes the rest back).
 */
export const AUDIT_SYNC_DELAY_MS = 1_000;

/** What this process last saw at the end of the file it wrote. */
interface KnownEnd {
  size: number;
  /** The last line as written, with its newline. */
  line: Buffer;
  seq: number;
}

/** The open audit file of one {@link AuditLog}; see the module comment. */
export class AuditFileHandle {
  readonly #path: string;
  readonly #onSyncFailed: (err: AuditError) => void;
  #fd: number | undefined;
  #ino = 0n;
  #dev = 0n;
  #known: KnownEnd | undefined;
  /** Highest seq this process wrote to the open file. */
  #writtenSeq = 0;
  /** Highest seq an fsync of the open file has covered. */
  #syncedSeq = 0;
  #isSyncing = false;
  #isSyncWanted = false;
  #syncTimer: NodeJS.Timeout | undefined;
  readonly #syncDelayMs: number;
  /** Descriptors to close once the fsync running on them returns. */
  readonly #closeAfterSync = new Set<number>();
  #syncError: AuditError | undefined;
  /**
   * An fsync of the file failed once. Linux marks the pages it could not write clean, so a later
   * fsync can succeed with them lost: from then on this process never claims the file is on disk
   * beyond what the last good sync before the failure covered (`syncedSeq` stays there, and so
   * does the database's `flushed_seq`); the start-up check compares the file from there and
   * writes back what is missing.
   */
  #hasSyncFailed = false;
  readonly #idleWaiters: Array<() => void> = [];

  /**
   * @param path Absolute path of the log file.
   * @param onSyncFailed Told when a background fsync fails; writes then refuse until a sync succeeds.
   * @param syncDelayMs The longest a write waits for its background fsync (default {@link AUDIT_SYNC_DELAY_MS}).
   */
  constructor(path: string, onSyncFailed: (err: AuditError) => void, syncDelayMs = AUDIT_SYNC_DELAY_MS) {
    this.#path = path;
    this.#onSyncFailed = onSyncFailed;
    this.#syncDelayMs = syncDelayMs;
  }

  /**
   * Highest seq this process wrote to the file, or found checked at its end (0 before the
   * first write, or after {@link reset}). Kept when the file is dropped: a file that lost
   * what this process wrote to it is refused, not written again from the start.
   */
  get writtenSeq(): number {
    return this.#writtenSeq;
  }

  /** Highest seq known to be on disk through this process's fsyncs. */
  get syncedSeq(): number {
    return this.#syncedSeq;
  }

  /**
   * The open file, or undefined when there is no file at the path. A descriptor whose file the
   * path no longer names is dropped (and what was known about it forgotten) first.
   *
   * @throws AuditError when the path cannot be inspected.
   */
  current(): number | undefined {
    let stats;
    try {
      stats = statSync(this.#path, { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      throw new AuditError(`audit log ${this.#path} cannot be inspected (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
    }
    if (this.#fd !== undefined && (stats === undefined || stats.ino !== this.#ino || stats.dev !== this.#dev)) this.forget();
    if (stats === undefined) return undefined;
    return this.#fd ?? this.#open(false);
  }

  /**
   * Create the file (mode 0600) and fsync its folder, so the new entry survives power loss.
   * @throws AuditError when it cannot be created or is not a regular file.
   */
  create(): number {
    const fd = this.#open(true);
    fsyncDir(this.#path);
    return fd;
  }

  /**
   * The seq at the end of the file of `size` bytes when it still ends, byte for byte, with the
   * last line this process wrote (and that line starts a line), else undefined.
   */
  unchangedEnd(fd: number, size: number): number | undefined {
    const known = this.#known;
    if (known === undefined || fd !== this.#fd || size !== known.size) return undefined;
    const start = size - known.line.length;
    // The byte before the line too: it must be a newline (or the start of the file).
    const from = start > 0 ? start - 1 : 0;
    const bytes = Buffer.allocUnsafe(size - from);
    if (readSync(fd, bytes, 0, bytes.length, from) !== bytes.length) return undefined;
    if (start > 0 && bytes[0] !== 0x0a) return undefined;
    return bytes.subarray(start - from).equals(known.line) ? known.seq : undefined;
  }

  /**
   * Note that the file of `size` bytes now ends with record `seq`, whose line (with its
   * newline) is `line`: written by this process, or checked by it.
   */
  endsWith(fd: number, size: number, seq: number, line: Buffer): void {
    if (fd !== this.#fd) return;
    this.#known = { size, line, seq };
    this.#writtenSeq = Math.max(this.#writtenSeq, seq);
  }

  /**
   * The file changed behind this handle's back: drop the descriptor and what was known about
   * its end, but keep how far this process wrote (see {@link writtenSeq}).
   */
  forget(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    this.#known = undefined;
    if (fd === undefined) return;
    if (this.#isSyncing) this.#closeAfterSync.add(fd);
    else closeQuietly(fd);
  }

  /** The start-up check is about to cut or move the file: forget everything, how far this process wrote too. */
  reset(): void {
    this.forget();
    this.#writtenSeq = 0;
    this.#syncedSeq = 0;
  }

  /**
   * fsync what this process wrote, in the background, within the sync delay: one fsync for every
   * write of that window, off the turn's path and out of the way of the database's own syncs.
   */
  requestSync(): void {
    if (this.#fd === undefined || this.#writtenSeq <= this.#syncedSeq) return;
    if (this.#isSyncing || this.#syncTimer !== undefined) {
      this.#isSyncWanted = true;
      return;
    }
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#startSync();
    }, this.#syncDelayMs);
    // A pending sync never holds the process open: shutdown and exit sync at once.
    this.#syncTimer.unref();
  }

  #startSync(): void {
    const fd = this.#fd;
    if (fd === undefined || this.#writtenSeq <= this.#syncedSeq) {
      this.#settled();
      return;
    }
    const seq = this.#writtenSeq;
    this.#isSyncing = true;
    this.#isSyncWanted = false;
    fsync(fd, (err) => {
      this.#isSyncing = false;
      for (const stale of this.#closeAfterSync) closeQuietly(stale);
      this.#closeAfterSync.clear();
      if (err) {
        this.#hasSyncFailed = true;
        this.#syncError = this.#syncFailed(err);
        this.#onSyncFailed(this.#syncError);
      } else if (fd === this.#fd && !this.#hasSyncFailed) {
        this.#syncedSeq = Math.max(this.#syncedSeq, seq);
      }
      if (this.#isSyncWanted) {
        this.#isSyncWanted = false;
        this.requestSync();
      }
      this.#settled();
    });
  }

  #settled(): void {
    if (!this.#isSyncing && this.#syncTimer === undefined) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Resolves once no background fsync is due or running (tests, and a stop that wants them done). */
  whenSynced(): Promise<void> {
    if (!this.#isSyncing && this.#syncTimer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * fsync now when anything written is not yet known to be on disk, or a background sync failed.
   * @throws AuditError when the fsync fails.
   */
  syncNow(): void {
    const fd = this.#fd;
    if (fd === undefined || (this.#writtenSeq <= this.#syncedSeq && this.#syncError === undefined)) return;
    const seq = this.#writtenSeq;
    try {
      fsyncSync(fd);
    } catch (err) {
      this.#hasSyncFailed = true;
      throw this.#syncFailed(err);
    }
    this.#syncError = undefined;
    if (!this.#hasSyncFailed) this.#syncedSeq = Math.max(this.#syncedSeq, seq);
  }

  /** The failure of the last background sync, until a sync succeeds. */
  get syncError(): AuditError | undefined {
    return this.#syncError;
  }

  /** Close the file (after {@link syncNow}, for a clean stop); a running fsync closes it when it returns. */
  close(): void {
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.forget();
    this.#settled();
  }

  #syncFailed(err: unknown): AuditError {
    return new AuditError(`audit log ${this.#path} could not be synced to disk (${errorMessage(err)}); no tool runs until a sync succeeds`, { cause: err });
  }

  #open(create: boolean): number {
    let fd: number;
    try {
      // Without `create`, no O_CREAT: a file deleted between the stat and here is not
      // silently recreated.
      fd = openSync(this.#path, create ? 'a+' : constants.O_RDWR | constants.O_APPEND, 0o600);
      const stats = fstatSync(fd, { bigint: true });
      if (!stats.isFile()) {
        closeSync(fd);
        throw new Error('it is not a regular file');
      }
      this.#ino = stats.ino;
      this.#dev = stats.dev;
    } catch (err) {
      throw new AuditError(`audit log ${this.#path} cannot be opened (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
    }
    this.#fd = fd;
    this.#known = undefined;
    return fd;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed, or the system refuses: nothing more to do with it.
  }
}
