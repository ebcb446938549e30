/**
 * `mithai chat` picks up decisions made by another process (`mithai approvals approve`) within
 * about a second, like `mithai run`: the prompt stops asking and the turn carries on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { BIN, makeProject, runCli } from './chat-harness.ts';

test('a CLI approval made while mithai chat waits on it is carried on by chat within a few seconds', async (t) => {
  const fake = await FakeAnthropic.start([reply(toolUse('ops__restart', { service: 'web' })), reply('Restarted.')]);
  const project = makeProject(fake.url, { timeoutSeconds: 300, extraConfig: '  approvers: ["local:*"]' });
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
  const until = async (what: string, check: () => boolean, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} (chat printed: ${out})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until('no approval prompt', () => /Approve\?/.test(out), 15_000);
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const id = db.prepare<[], { id: string }>("SELECT id FROM approvals WHERE state = 'pending'").get()?.id;
  db.close();
  assert.ok(id);
  const cli = await runCli(['approvals', 'approve', id, '--config', project.configPath], { cwd: project.dir });
  assert.equal(cli.code, 0, cli.stderr);
  // The person at the terminal has not answered; the decision came from the command line.
  await until('chat never picked up the CLI decision: the tool did not run', () => project.effects().length > 0, 6_000);
  assert.deepEqual(project.effects(), ['restart web']);
});
