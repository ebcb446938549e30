/**
 * One write transaction over the state database, with work to do after the outermost commit
 * (copying new audit records to the audit file). Nested calls join the outer transaction
 * (savepoints), so several stores can commit one change together.
 */
import { inWriteTransaction } from './database.ts';
import type { Database } from './database.ts';

/** Runs `fn` in one write transaction; see {@link createTransactor}. */
export type Transact = <T>(fn: () => T) => T;

/**
 * @param db The state database.
 * @param afterCommit Called after each outermost commit (never inside a transaction); a
 *   throw from it propagates to the caller, with the transaction already committed.
 */
export function createTransactor(db: Database, afterCommit: () => void): Transact {
  return <T>(fn: () => T): T => {
    const isOutermost = !db.inTransaction;
    // BEGIN IMMEDIATE takes the write lock up front: the commit cannot lose to another
    // process after fn has done its work.
    const result = inWriteTransaction(db, fn);
    if (isOutermost) afterCommit();
    return result;
  };
}
