/**
 * An in-memory {@link AuditSink} for gate tests. Models the contract the gate relies on:
 * append is synchronous, returns the record with chain fields, and throws AuditError when the
 * log cannot be written (switch `failing` on). Leaves out redaction, hashing and files.
 */
import { AuditError } from '../../src/errors.ts';
import type { AuditEventInput, AuditRecord, AuditSink } from '../../src/audit/types.ts';

/** Keeps appended records in an array; `failing = true` makes append throw. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  failing = false;
  /** Calls that threw. */
  failures = 0;

  append(input: AuditEventInput): AuditRecord {
    if (this.failing) {
      this.failures++;
      throw new AuditError('memory audit sink: append failed (test switch)');
    }
    const seq = this.records.length + 1;
    const record: AuditRecord = {
      ...structuredClone(input),
      v: 1,
      seq,
      time: new Date(0).toISOString(),
      prev_hash: String(seq - 1),
      hash: String(seq),
    };
    this.records.push(record);
    return record;
  }

  /** Nothing to copy anywhere: records are in memory as soon as they are appended. */
  write(): void {}

  catchUp(): void {}
}
