/**
 * Review finding (src/audit/audit-log.ts #writeLocked with AuditFileHandle.unchangedEnd,
 * ab621fa): the cached tail ("the file still ends with this process's last line": same size,
 * same last-line bytes) skips #checkedTail, and with it the `tail.seq < written` check that
 * refuses a file which lost records the database says were written (audit_tail_missing).
 * When another process (the `mithai approvals approve` CLI) appended and flushed records after
 * this process's last write, and the file is then cut back to exactly where this process left
 * it, the cache matches and the engine silently continues the cut file — write()'s contract
 * "a file that was cut, replaced or torn is never continued" and the commit's "truncation is
 * still refused" do not hold. A fresh AuditLog (no cache) refuses the same file.
 *
 * Impact is low (the cut records are written again from the database), but the cut goes
 * unreported: the refusal that makes an operator look (and accept with --accept-audit-gap) is
 * skipped. Fix: use the cached end only when it is >= the `written` seq (else check in full).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync } from 'node:fs';
import { AuditError } from '../../src/errors.ts';
import { auditEvent, openLog, tempDir } from '../audit/audit-fixtures.ts';

const tailMissing = (err: unknown): boolean => err instanceof AuditError && err.code === 'audit_tail_missing';

test('a file cut back to this process\'s last line, losing another process\'s flushed records, is refused, not continued', (t) => {
  const dir = tempDir(t);
  const engine = openLog(t, dir);
  engine.log.append(auditEvent({ approval_id: 'apr-1' }));
  engine.log.flush();
  const engineEnd = readFileSync(engine.path).length;

  // The CLI, in its own process: a decision, written and flushed (flushed_seq = 2).
  const cli = openLog(t, dir);
  cli.log.append(auditEvent({ approval_id: 'apr-2', decider: 'local:ops' }));
  cli.log.flush();
  assert.equal(cli.store.head()!.flushedSeq, 2);

  // Someone cuts the CLI's record off: the file is byte for byte what the engine last wrote.
  truncateSync(engine.path, engineEnd);

  // A third process, with nothing cached, refuses to continue it.
  const fresh = openLog(t, dir);
  fresh.log.append(auditEvent({ approval_id: 'apr-3' }));
  assert.throws(() => fresh.log.write(), tailMissing, 'a log with no cached end names the cut');

  // The engine, whose cached end matches, must refuse it too.
  assert.throws(
    () => engine.log.write(),
    tailMissing,
    'the engine continued a file that lost seq 2 (flushed_seq 2) without a refusal: its cached end matched, so the tail was not checked',
  );
});
