/**
 * Builders shared by the audit tests: a valid event input and a temp folder per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { AuditEventInput } from '../../src/audit/types.ts';

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
