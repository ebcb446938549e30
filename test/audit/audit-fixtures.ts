/**
 * Builders shared by the audit tests: a valid event input, a temp folder per test, and an
 * audit log over a state database in that folder.
 */
import fs, { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';

/** A decision event with sensible values; override any field. */
export function auditEvent(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    event: 'decision',
    approval_id: 'apr-1',
    call_id: 'toolu_1',
    session: 'slack:C1:1700000000.000100',
    requester: 'U1',
    decider: 'U2',
    tool: 'ops__restart',
    level: 'approve',
    level_reason: 'declared',
    decision: 'approved',
    fingerprint: 'f'.repeat(64),
    input: { service: 'web' },
    status: 'executing',
    reason: null,
    ...overrides,
  };
}

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A state database (a file in `dir`, so a second connection sees the same data), closed after the test. */
export function stateDb(t: TestContext, dir: string): Database {
  const db = openDatabase(join(dir, 'state'));
  t.after(() => {
    if (db.open) db.close();
  });
  return db;
}

/** An audit log at `<dir>/memory/approvals.json` over a fresh connection to `<dir>/state`. */
export function openLog(t: TestContext, dir: string, options: { redactor?: Redactor; now?: () => Date; syncDelayMs?: number } = {}): { log: AuditLog; db: Database; store: AuditStore; path: string } {
  const db = stateDb(t, dir);
  const store = new AuditStore(db);
  const path = join(dir, 'memory', 'approvals.json');
  const log = AuditLog.open(path, { redactor: options.redactor ?? new Redactor(), store, now: options.now, ...(options.syncDelayMs === undefined ? {} : { syncDelayMs: options.syncDelayMs }) });
  return { log, db, store, path };
}

/** The file's lines, without the final newline. */
export function fileLines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

/**
 * The paths fsync'd through node:fs from now until the test ends, in order (SQLite syncs its
 * own commits natively: only explicit syncs, such as `syncCommitted`'s, show here).
 */
export function watchFsyncs(t: TestContext): string[] {
  const seen: string[] = [];
  const original = fs.fsyncSync;
  fs.fsyncSync = (fd: number): void => {
    try {
      seen.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      seen.push(`fd ${fd}`);
    }
    original(fd);
  };
  syncBuiltinESMExports();
  t.after(() => {
    fs.fsyncSync = original;
    syncBuiltinESMExports();
  });
  return seen;
}

/** Whether the state database's WAL was fsync'd before the audit file (or the file not at all) among `fsyncs`. */
export function walSyncedFirst(fsyncs: readonly string[]): boolean {
  const wal = fsyncs.findIndex((p) => p.endsWith('mithai.db-wal'));
  const file = fsyncs.findIndex((p) => p.endsWith('approvals.json'));
  return wal !== -1 && (file === -1 || wal < file);
}
