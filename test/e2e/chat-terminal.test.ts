/**
 * What the person (or the script) at `mithai chat` sees and gets back, through the real CLI
 * against the fake Messages API: the slash commands, answers that are not clear, the wrong
 * confirm phrase, local times, what `--session` loaded, the spinner on a terminal only, and
 * the exit codes a script reads (src/cli/exit-codes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { sessionKey } from '../../src/engine/session-key.ts';
import { openDatabase } from '../../src/state/database.ts';
import { TurnStore } from '../../src/state/turn-store.ts';
import { BIN, projectWithFakeModel, runChat, runCli } from './chat-harness.ts';

const setup = projectWithFakeModel;

/** Piped output is for scripts: no escape codes, no carriage returns (the spinner is a TTY thing). */
function assertPlain(text: string, what: string): void {
  assert.doesNotMatch(text, /[\x1b\r]/, `${what} has an escape code or a carriage return: ${JSON.stringify(text)}`);
}

test('/help, /tools and a mistyped command are answered here without the model; a message that starts with a path still goes to it', async (t) => {
  const { fake, project } = await setup(t, [reply('Noted.')]);
  const run = await runChat(project, ['/help', '/tools', '/tols', '/var/log is full', '/quit', 'never sent'], ['--session', 'fresh-1']);
  assert.equal(run.code, EXIT.ok, run.stderr);
  assert.match(run.stdout, /^Commands:\n {2}\/help .*\n {2}\/tools .*\n {2}\/reset .*\n {2}\/quit /m);
  assert.match(run.stdout, /^ {2}ops__restart +approve +Restart a service$/m);
  assert.match(run.stdout, /^ {2}ops__status +auto, read-only +Show service status$/m);
  assert.match(run.stdout, /^ {2}ops__drop_db +confirm +Drop a database\. Irreversible\.$/m);
  assert.match(run.stdout, /^ {2}\/tols is not a command; \/help lists them\.$/m);
  assert.match(run.stdout, /testbot> Noted\./);
  assert.equal(fake.calls.length, 1, 'only "/var/log is full" reached the model; /quit ended the chat');
  assert.match(JSON.stringify(fake.requests[0]!.messages), /\/var\/log is full/);
  assert.match(run.stderr, /^Session fresh-1 is new: no earlier messages\.$/m, 'piped, notes about the session go to stderr');
  assertPlain(run.stdout, 'stdout');
  assertPlain(run.stderr, 'stderr');
});

test('/reset starts a new conversation: the next message reaches the model without the earlier ones', async (t) => {
  const { fake, project } = await setup(t, [reply('First.'), reply('Second.')]);
  const run = await runChat(project, ['remember the word tangerine', '/reset', 'what was the word?']);
  assert.equal(run.code, EXIT.ok, run.stderr);
  assert.match(run.stdout, /Started a new conversation \(session chat-[^)]+\); the model remembers nothing of the last one\. `mithai chat --session chat-[^`]+` resumes it\./);
  const second = fake.requests[1]!;
  assert.equal(second.messages.length, 1, `the second request carries only the new message: ${JSON.stringify(second.messages)}`);
  assert.doesNotMatch(JSON.stringify(second.messages), /tangerine/);
});

test('an unclear answer ("maybe") asks again instead of denying, and the deadline is shown in local time', async (t) => {
  const { project } = await setup(t, [reply(toolUse('ops__restart', { service: 'api' })), reply('Restarted.')], { timeoutSeconds: 300 });
  // Asia/Kolkata is UTC+05:30 all year: the shown deadline must be the stored one moved by that.
  const run = await runCli(['chat', '--config', project.configPath, '--user', 'alice'], { cwd: project.dir, stdin: 'restart api\nmaybe\ny\n', env: { TZ: 'Asia/Kolkata' } });
  assert.equal(run.code, EXIT.ok, run.stderr);
  assert.match(run.stdout, /\n {2}Nothing was decided: answer "y" to approve or "n" to deny \(or "n <reason>"\): /);
  assert.deepEqual(project.effects(), ['restart api']);
  assert.deepEqual(project.auditRecords().filter((r) => r.event === 'decision').map((r) => r.decision), ['approved'], '"maybe" recorded no decision');
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const deadline = db.prepare<[], { deadline: string }>('SELECT deadline FROM approvals').get()!.deadline;
  db.close();
  const local = new Date(Date.parse(deadline) + 330 * 60_000).toISOString().slice(11, 19);
  assert.match(run.stdout, new RegExp(`decide by (\\d{4}-\\d{2}-\\d{2} )?${local} \\(in 5 min\\)`), `deadline ${deadline} is ${local} in Kolkata`);
  assert.ok(!run.stdout.includes(deadline), 'the UTC deadline is not what the person reads');
});

test('a wrong confirm phrase is answered with one line that says so and asks again', async (t) => {
  const { project } = await setup(t, [reply(toolUse('ops__drop_db', { name: 'orders' })), reply('Dropped.')], { extraConfig: '  confirm_requires_second_person: false' });
  const run = await runChat(project, ['drop the orders db', 'order', 'orders'], ['--user', 'alice']);
  assert.equal(run.code, EXIT.ok, run.stderr);
  const afterQuestion = run.stdout.slice(run.stdout.indexOf('Type "orders" to run it, or "n" to deny: ') + 'Type "orders" to run it, or "n" to deny: '.length);
  assert.match(afterQuestion, /^\n {2}That does not match; nothing ran\. Type "orders" to run it, or "n" to deny: {3}ops__drop_db: approved by alice/);
  assert.doesNotMatch(run.stdout, /exactly to confirm/, 'the gate\'s own message is not printed as a second line');
  assert.deepEqual(project.effects(), ['drop orders']);
});

test('piped chat exits 3 when the model cannot be reached, though it answered every line', async (t) => {
  const { fake, project } = await setup(t, []);
  await fake.stop(); // nothing listens at the configured base_url any more
  const run = await runChat(project, ['hello', 'hello again']);
  assert.equal(run.code, EXIT.modelError, run.stderr);
  assert.equal(run.stdout.match(/testbot> Sorry, I could not finish: Could not reach the model API/g)?.length, 2);
});

test('piped chat exits 4 when a turn failed inside mithai (an unreadable turn resumed with --session)', async (t) => {
  const { fake, project } = await setup(t, []);
  const db = openDatabase(join(project.dir, '.mithai', 'state'));
  const conversation = { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: 'ops-1' };
  new TurnStore(db).create({ id: 'trn_unreadable01', sessionKey: sessionKey(conversation), platform: 'terminal', turnJson: '{not json', nonce: 'n' });
  db.close();
  const run = await runChat(project, [], ['--session', 'ops-1']);
  assert.equal(run.code, EXIT.turnFailed, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  assert.equal(fake.calls.length, 0);
});

const hasScript = spawnSync('script', ['--version']).status === 0;

test('on a terminal a spinner shows while the model works and is erased before the reply', { skip: hasScript ? false : 'needs script(1) from util-linux for a pseudo-terminal' }, async (t) => {
  const { project } = await setup(t, [reply('Hello there.')]);
  // script(1) runs the chat on a pseudo-terminal: stdin, stdout and stderr are all TTYs.
  const command = [process.execPath, BIN, 'chat', '--config', project.configPath, '--user', 'alice'].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project.dir, env: { ...process.env, MITHAI_TEST_EFFECTS_DIR: project.dir, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  const closed = new Promise<number | null>((r) => child.once('close', r));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await closed;
  });
  const until = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(screen)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until('no prompt', () => screen.includes('alice> '));
  child.stdin.write('hello\r');
  await until('no reply', () => screen.includes('testbot> Hello there.'));
  child.stdin.write('/quit\r');
  assert.equal(await closed, 0);
  const replyAt = screen.indexOf('testbot> Hello there.');
  const spinner = screen.search(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] thinking…/);
  assert.ok(spinner > 0 && spinner < replyAt, `a spinner frame before the reply: ${JSON.stringify(screen)}`);
  assert.ok(screen.lastIndexOf('\r\x1b[K', replyAt) > spinner, 'the spinner line is erased before the reply is printed');
});
