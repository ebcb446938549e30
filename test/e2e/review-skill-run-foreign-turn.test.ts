/**
 * Review: `mithai skill run` drives the engine with a DirectCallModel that answers ANY request
 * without its call's result with "call my tool". An interrupted skill run (SIGTERM at the
 * approval prompt) leaves its turn waiting and its approval pending. When that approval settles
 * later (it expires, or `mithai approvals approve`), whichever terminal process is running
 * carries the old turn on with ITS model:
 * - another `mithai skill run` puts its own tool call into the old turn (a second approval
 *   prompt for one run; an approved-twice or auto tool runs twice);
 * - `mithai chat` sends the skill-run turn (a tool_use the model never made) to the real model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { BIN, makeProject, type Project } from './chat-harness.ts';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

interface Run {
  code: number | null;
  out: string;
}

/** Run the CLI; answer `answer` to every approval prompt; SIGTERM at the first prompt when `term`. */
function cli(project: Project, args: string[], o: { answer?: string; term?: boolean; stdin?: string; closeWhen?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, MITHAI_TEST_EFFECTS_DIR: project.dir };
    delete env.ANTHROPIC_BASE_URL;
    const child = spawn(process.execPath, [BIN, ...args, '--config', project.configPath], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let prompts = 0;
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const seen = out.split('Approve?').length - 1;
      if (seen > prompts) {
        prompts = seen;
        if (o.term) child.kill('SIGTERM');
        else if (o.answer !== undefined) child.stdin.write(`${o.answer}\n`);
      }
      if (o.closeWhen?.test(out)) child.stdin.end();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
    if (o.stdin !== undefined) child.stdin.write(o.stdin);
  });
}

/** Wait until the only approval's deadline has passed; @returns its state then. */
async function pastDeadline(project: Project): Promise<string> {
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const row = db.prepare<[], { state: string; deadline: string }>('SELECT state, deadline FROM approvals').get();
  db.close();
  assert.ok(row, 'an approval was requested');
  const due = Date.parse(row.deadline);
  while (Date.now() <= due + 50) await tick();
  return row.state;
}

function turnStates(project: Project): string[] {
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const rows = db.prepare<[], { state: string }>('SELECT state FROM turns ORDER BY rowid').all();
  db.close();
  return rows.map((r) => r.state);
}

/** `skill run ops__restart {service: web}`, SIGTERM at its approval prompt. */
async function interruptedRun(project: Project): Promise<void> {
  const first = await cli(project, ['skill', 'run', 'ops__restart', '--input', '{"service":"web"}', '--user', 'sre'], { term: true });
  assert.equal(first.code, 130, first.out);
}

test('an interrupted skill run cancels its approval and finishes its turn (nothing can carry it on later)', async (t) => {
  const project = makeProject('http://127.0.0.1:9', { timeoutSeconds: 30 });
  t.after(() => project.cleanup());
  await interruptedRun(project);
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const row = db.prepare<[], { state: string; reason: string | null }>('SELECT state, reason FROM approvals').get();
  db.close();
  assert.equal(row?.state, 'cancelled', `after SIGTERM the skill run's approval is ${row?.state}`);
  assert.deepEqual(turnStates(project), ['done']);
  assert.deepEqual(project.auditRecords().map((r) => [r.event, r.decision, r.status]), [['requested', null, 'pending'], ['decision', 'cancelled', 'not_run']]);
  assert.deepEqual(project.effects(), []);
});

test("a skill run does not put its call into another terminal turn whose approval settles meanwhile: one prompt, one run", async (t) => {
  const fake = await FakeAnthropic.start([reply(toolUse('ops__restart', { service: 'web' })), reply('ok')]);
  const project = makeProject(fake.url, { timeoutSeconds: 1 });
  t.after(async () => {
    await fake.stop();
    project.cleanup();
  });
  // A chat killed at its prompt keeps its approval pending (by design: --session resumes it).
  const chat = cli(project, ['chat', '--user', 'sre', '--session', 'ops-1'], { stdin: 'restart web\n', term: true });
  await chat;
  assert.equal(await pastDeadline(project), 'pending');

  const run = await cli(project, ['skill', 'run', 'ops__restart', '--input', '{"service":"api"}', '--user', 'sre'], { answer: 'y', closeWhen: /result> / });
  const requested = project.auditRecords().filter((r) => r.event === 'requested' && JSON.stringify(r.input) === '{"service":"api"}');
  assert.equal(requested.length, 1, `one skill run asked ${requested.length} approvals for its call:\n${run.out}`);
  assert.deepEqual(project.effects().filter((e) => e === 'restart api'), ['restart api'], `effects: ${JSON.stringify(project.effects())}\n${run.out}`);
  assert.equal(run.code, 0, run.out);
});

test("mithai chat does not send an interrupted skill run's turn to the model", async (t) => {
  const fake = await FakeAnthropic.start([reply('hello there'), reply('hello there'), reply('hello there')]);
  const project = makeProject(fake.url, { timeoutSeconds: 1 });
  t.after(async () => {
    await fake.stop();
    project.cleanup();
  });
  await interruptedRun(project);
  await pastDeadline(project);

  // chat arms every pending approval at start; a past-due one expires and its turn is carried on.
  await cli(project, ['chat', '--user', 'sre'], { stdin: 'hi\n', closeWhen: /hello there/ });
  const leaked = fake.requests.filter((r) => JSON.stringify(r.body?.messages ?? []).includes('mithai skill run'));
  assert.equal(leaked.length, 0, `the model was sent the skill run's turn: ${String(JSON.stringify(leaked[0]?.body?.messages)).slice(0, 600)}`);
});
