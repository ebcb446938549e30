/**
 * One write transaction over the state database, with work to do after the outermost commit
 * (copying new audit records to the audit file). Nested calls join the outer transaction
 * (savepoints), so several stores can commit one change together.
 */
import { inWriteTransaction } from './database.ts';
import type { CommitOptions, Database } from './database.ts';

export type { CommitOptions } from './database.ts';

/** Runs `fn` in one write transaction; see {@link createTransactor} and {@link CommitOptions}. */
export type Transact = <T>(fn: () => T, options?: CommitOptions) => T;

/**
 * @param db The state database.
 * @param afterCommit Called after each outermost commit (never inside a transaction), told
 *   whether the commit waited for the disk; a throw from it propagates to the caller, with the
 *   transaction already committed.
 */
export function createTransactor(db: Database, afterCommit: (synced: boolean) => void): Transact {
  return <T>(fn: () => T, options?: CommitOptions): T => {
    const isOutermost = !db.inTransaction;
    // BEGIN IMMEDIATE takes the write lock up front: the commit cannot lose to another
    // process after fn has done its work.
    const result = inWriteTransaction(db, fn, options);
    if (isOutermost) afterCommit(options?.sync !== false);
    return result;
  };
}
