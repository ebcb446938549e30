/**
 * A signal is not the end of input: SIGTERM or Ctrl-C on `mithai chat` while it waits for an answer
 * leaves the approval pending (not `cancelled`), so `mithai chat --session NAME` can resume it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { BIN, makeProject } from './chat-harness.ts';

test('SIGTERM to mithai chat leaves its pending approval pending, for --session to resume', async (t) => {
  const fake = await FakeAnthropic.start([reply(toolUse('ops__restart', { service: 'web' })), reply('Restarted.')]);
  const project = makeProject(fake.url, { timeoutSeconds: 300 });
  const env: Record<string, string | undefined> = { ...process.env, MITHAI_TEST_EFFECTS_DIR: project.dir };
  delete env.ANTHROPIC_API_KEY;
  const chat = spawn(process.execPath, [BIN, 'chat', '--config', project.configPath, '--session', 'ops-1'], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  chat.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise((r) => chat.once('close', r));
  t.after(async () => {
    if (chat.exitCode === null) chat.kill('SIGKILL');
    await closed;
    await fake.stop();
    project.cleanup();
  });
  chat.stdin.write('restart web\n');
  const deadline = Date.now() + 15_000;
  while (!/Approve\?/.test(out)) {
    if (Date.now() > deadline) throw new Error(`no approval prompt (chat printed: ${out})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  chat.kill('SIGTERM');
  await closed;

  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const row = db.prepare<[], { state: string; reason: string | null }>('SELECT state, reason FROM approvals').get();
  db.close();
  assert.equal(row?.state, 'pending', `after SIGTERM the approval is ${row?.state} (${row?.reason}); audit: ${JSON.stringify(project.auditRecords().map((r) => [r.event, r.decision, r.reason]))}`);
});
