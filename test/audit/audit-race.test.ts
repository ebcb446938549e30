/**
 * Two OS processes, each with its own database connection and its own AuditLog, append to
 * the same project at the same moment. The database write lock must serialise them: one
 * chain, no seq used twice, every record in the file once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { auditEvent, fileLines, openLog, tempDir } from './audit-fixtures.ts';

const CHILD = fileURLToPath(new URL('./append-race-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function startChild(dir: string, label: string, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, label, String(count)], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = await lines.next();
  assert.equal(ready.value, 'ready', `child did not start: ${stderr}`);
  return {
    go: () => child.stdin.write('go\n'),
    result: async (): Promise<{ seqs: number[] }> => {
      const line = await lines.next();
      await once(child, 'exit');
      assert.equal(typeof line.value, 'string', `child failed: ${stderr}`);
      return JSON.parse(line.value as string) as { seqs: number[] };
    },
  };
}

test('two processes appending 50 records each at once write one chain of 100 that verifies', async (t) => {
  const dir = tempDir(t);
  // Create the database and the file first, so the children race on appends, not on set-up.
  const { log, store, path } = openLog(t, dir);
  log.append(auditEvent({ approval_id: 'setup' }));
  log.flush();

  const children = await Promise.all([startChild(dir, 'a', 50), startChild(dir, 'b', 50)]);
  for (const child of children) child.go();
  const [a, b] = await Promise.all(children.map((child) => child.result()));

  const all = [...a!.seqs, ...b!.seqs].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i + 2), 'every seq after the set-up record used exactly once');
  assert.deepEqual(verifyAuditLog(path), { ok: true, records: 101 });
  const ids = fileLines(path).map((l) => (JSON.parse(l) as { approval_id: string }).approval_id);
  assert.equal(new Set(ids).size, 101, 'no record written twice');
  assert.deepEqual(store.head(), { seq: 101, hash: (JSON.parse(fileLines(path)[100]!) as { hash: string }).hash, flushedSeq: 101 });
});
