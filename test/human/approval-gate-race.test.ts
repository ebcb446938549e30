import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { openDatabase } from '../../src/state/database.ts';
import { tempDir } from '../state/open-test-database.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';
import { makeGate, request } from './gate-fixture.ts';

const CHILD = fileURLToPath(new URL('./decide-race-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface ChildResult {
  ok: boolean;
  refusal: string | null;
  records: Array<{ event: string; decision: string | null }>;
}

/** Start a child that decides once on "go"; resolves when it is ready. */
async function startChild(dir: string, id: string, decider: string, decision: 'approve' | 'deny') {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, id, decider, decision], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = await lines.next();
  assert.equal(ready.value, 'ready', `child did not start: ${stderr}`);
  return {
    go: () => child.stdin.write('go\n'),
    result: async (): Promise<ChildResult> => {
      const line = await lines.next();
      await once(child, 'exit');
      assert.equal(typeof line.value, 'string', `child failed: ${stderr}`);
      return JSON.parse(line.value as string) as ChildResult;
    },
  };
}

/*
 * The strongest form of "first valid decision wins": several processes, each with its own
 * connection and gate, decide the same approval at the same moment. SQLite's write lock and
 * the conditional UPDATE must let exactly one through, with exactly one decision audited.
 */
describe('ApprovalGate.decide across processes', () => {
  test('of four processes deciding at once, exactly one wins and only it audits a decision', async (t) => {
    const dir = tempDir(t);
    const db = openDatabase(dir);
    t.after(() => db.close());
    // The children use the real clock, so the deadline must be real too.
    const { gate, store } = makeGate(t, { db, clock: new FakeClock(Date.now()) });
    const opened = gate.open(request());

    const deciders = [['U1', 'approve'], ['U2', 'deny'], ['U3', 'approve'], ['U4', 'deny']] as const;
    const children = await Promise.all(deciders.map(([who, what]) => startChild(dir, opened.id, who, what)));
    for (const child of children) child.go();
    const results = await Promise.all(children.map((child) => child.result()));

    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.deepEqual(results.filter((r) => !r.ok).map((r) => r.refusal), ['already_decided', 'already_decided', 'already_decided']);
    assert.equal(results.flatMap((r) => r.records).filter((r) => r.event === 'decision').length, 1);
    const winner = deciders[results.findIndex((r) => r.ok)];
    assert.equal(store.get(opened.id)?.decider, winner?.[0]);
    assert.equal(store.get(opened.id)?.state, winner?.[1] === 'approve' ? 'approved' : 'denied');
  });
});
