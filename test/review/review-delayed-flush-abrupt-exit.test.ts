/**
 * Review finding (the delayed outcome flush of commit 6c6deba, together with the EPIPE exit):
 * an outcome record now waits up to OUTCOME_FLUSH_DELAY_MS in the database only, and only the
 * turn's reply and runtime.close() are said to bring it to the file. But `mithai chat` (and
 * every command) also ends by `process.exit(0)` from src/cli/closed-pipe.ts the moment a write
 * to a closed stdout fails — the "[tool] … succeeded" line, printed just before the outcome is
 * committed. That exit skips runtime.close(), so a tool that ran leaves approvals.json with its
 * decision but without its outcome, although the outcome was committed. closed-pipe.ts still
 * says "Ending at once is safe for every command: SQLite and the audit appender write
 * synchronously", which this commit made untrue. (Before 6c6deba the outcome's own commit
 * flushed it.)
 *
 * What must hold: when a mithai process has ended, every record it committed is in the audit
 * file (the file is the audit trail people read; the start-up catch-up needs a next start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { BIN, makeProject } from '../e2e/chat-harness.ts';

const SLOW_TOOLS = `
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineSkill, defineTool, z } from 'mithai';
const effect = (line) => appendFileSync(join(process.env.MITHAI_TEST_EFFECTS_DIR, 'effects.log'), line + '\\n');
// Runs until the test says its reader has gone (the file 'go' appears), then finishes.
const released = async () => { while (!existsSync(join(process.env.MITHAI_TEST_EFFECTS_DIR, 'go'))) await new Promise((r) => setTimeout(r, 5)); };
export default defineSkill({
  tools: {
    slow_status: defineTool({ description: 'Show service status slowly', human: 'auto', readOnly: true,
      input: z.object({}), handle: async () => { await released(); effect('status'); return 'all green'; } }),
  },
});
`;

test('a mithai chat that ends because stdout closed has every committed audit record in approvals.json', async (t) => {
  // The model asks for the tool, then takes its time answering (the process is gone by then).
  const model = await FakeAnthropic.start([reply(toolUse('ops__slow_status', {})), { ...reply('All green.'), delayMs: 2_000 }]);
  t.after(() => model.stop());
  const project = makeProject(model.url, { tools: SLOW_TOOLS });
  t.after(() => project.cleanup());

  const code = await new Promise<number | null>((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, MITHAI_TEST_EFFECTS_DIR: project.dir };
    delete env.ANTHROPIC_API_KEY;
    delete env.ANTHROPIC_BASE_URL;
    const child = spawn(process.execPath, [BIN, 'chat', '--config', project.configPath], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    // `mithai chat … | grep -m1 started`: the reader leaves once the tool has started.
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/\[tool\] ops__slow_status started/.test(out) && !child.stdout.destroyed) {
        child.stdout.destroy();
        // The tool finishes only now, so its "succeeded" line meets the closed pipe; then no more input.
        writeFileSync(join(project.dir, 'go'), '');
        child.stdin.end();
      }
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
    child.stdin.write('how are things?\n');
  });

  assert.deepEqual(project.effects(), ['status'], `the tool ran (exit ${String(code)})`);
  const db = openDatabase(join(project.dir, '.mithai', 'state'));
  let head;
  try {
    head = new AuditStore(db).head();
  } finally {
    db.close();
  }
  const fileRecords = project.auditRecords();
  const outcome = fileRecords.find((r) => r.event === 'outcome' && r.tool === 'ops__slow_status');
  assert.ok(head !== undefined, 'records were committed');
  assert.equal(
    head.flushedSeq,
    head.seq,
    `mithai ended (exit ${String(code)}) with committed records ${head.flushedSeq + 1}..${head.seq} only in the state database; ` +
      `approvals.json has ${fileRecords.length} records, the tool's outcome ${outcome === undefined ? 'missing' : 'present'}`,
  );
  assert.ok(outcome, 'the outcome of the tool that ran is in approvals.json');
});
