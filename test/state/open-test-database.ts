/**
 * Opens a state database for a test, in memory or in a fresh temporary directory, and closes
 * and removes it when the test ends. Store contract suites run against both backends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { IN_MEMORY, openDatabase } from '../../src/state/database.ts';
import type { Database } from '../../src/state/database.ts';

/** Where a contract suite's database lives. */
export type Backend = 'memory' | 'file';

/** Both backends every store contract runs against. */
export const BACKENDS: readonly Backend[] = ['memory', 'file'];

/** A temporary directory removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Open a database on `backend`, closed after the test. */
export function openTestDatabase(t: TestContext, backend: Backend): Database {
  const db = openDatabase(backend === 'memory' ? IN_MEMORY : join(tempDir(t), 'state'));
  t.after(() => db.close());
  return db;
}
