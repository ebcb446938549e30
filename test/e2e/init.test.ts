/**
 * `mithai init` as a user runs it: a real child process into a temp dir, then the new project
 * is validated and chatted with against the fake model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse, lastToolResults, toolResultText } from '../fakes/anthropic/script.ts';
import { runCli } from './chat-harness.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-init-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('init scaffolds a project that validates and chats with the example skill against the fake model', async (t) => {
  const dir = tempDir(t);
  const init = await runCli(['init', dir, '--yes', '--bot-name', 'opsbot']);
  assert.equal(init.code, 0, init.stderr);
  for (const f of ['config.yaml', '.env', '.env.example', '.gitignore', 'memory/MEMORY.md', 'skills/example/SKILL.md', 'skills/example/tools.ts', 'slack-manifest.yaml', 'tsconfig.json']) {
    assert.ok(existsSync(join(dir, f)), `${f} exists`);
  }
  assert.equal(statSync(join(dir, '.env')).mode & 0o777, 0o600);
  const config = readFileSync(join(dir, 'config.yaml'), 'utf8');
  assert.doesNotMatch(config, /sk-ant-|xoxb-|xapp-/, 'no literal secrets in config.yaml');
  assert.match(readFileSync(join(dir, '.env.example'), 'utf8'), /^ANTHROPIC_API_KEY=$/m);

  // The editor settings point `mithai` at this runtime's own types.
  const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  assert.ok(existsSync(tsconfig.compilerOptions.paths.mithai![0]!), 'paths.mithai names the runtime index');

  const validate = await runCli(['skill', 'validate', '--config', join(dir, 'config.yaml')]);
  assert.equal(validate.code, 0, validate.stderr);
  assert.doesNotMatch(validate.stdout, /Type check skipped/, 'the example skill was type-checked');
  assert.match(validate.stdout, /ok {2}example \(2 tools\)/);

  const list = await runCli(['skill', 'list', '--config', join(dir, 'config.yaml')]);
  assert.match(list.stdout, /example__list_services\s+auto, read-only/);
  assert.match(list.stdout, /example__restart_service\s+approve/);
  assert.match(list.stdout, /Built-in skills \(skills\.builtin\):\n(?:.*\n)*memory {2}.*\n(?:.*\n)*\s+memory__write_file\s+dynamic/);
  assert.match(list.stdout, /Not enabled: kubernetes, shell/);

  const fake = await FakeAnthropic.start([
    reply(toolUse('example__list_services', {})),
    reply(toolUse('example__restart_service', { name: 'worker' })),
    reply('Restarted the worker.'),
  ]);
  t.after(() => fake.stop());
  writeFileSync(join(dir, 'config.yaml'), config.replace('# base_url: https://api.anthropic.com', `base_url: ${fake.url}`));
  writeFileSync(join(dir, '.env'), `ANTHROPIC_API_KEY=${FAKE_API_KEY}\n`, { mode: 0o600 });
  const chat = await runCli(['chat', '--config', join(dir, 'config.yaml'), '--user', 'sre'], { cwd: dir, stdin: 'restart the worker\ny\n' });
  assert.equal(chat.code, 0, chat.stderr);
  assert.match(chat.stdout, /opsbot> Restarted the worker\./);
  assert.match(toolResultText(lastToolResults(fake.requests[1]!)[0]!), /"name": "worker"/);
  assert.match(toolResultText(lastToolResults(fake.requests[2]!)[0]!), /worker restarted \(restart #1\)/);

  const verify = await runCli(['audit', 'verify', '--config', join(dir, 'config.yaml')]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /OK: .*approvals\.json: 5 records/);
});

test('init refuses to overwrite existing files and writes nothing; --force overwrites but never .env', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.yaml'), 'mine: true\n');
  writeFileSync(join(dir, '.env'), 'ANTHROPIC_API_KEY=keep-me-please\n');
  const refused = await runCli(['init', dir, '--yes']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already has config\.yaml; nothing was written/);
  assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), 'mine: true\n');
  assert.ok(!existsSync(join(dir, 'skills')), 'nothing else was written');

  const forced = await runCli(['init', dir, '--yes', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(readFileSync(join(dir, 'config.yaml'), 'utf8'), /bot:/);
  const env = readFileSync(join(dir, '.env'), 'utf8');
  assert.match(env, /^ANTHROPIC_API_KEY=keep-me-please$/m, 'existing secrets are kept');
  assert.match(env, /^SLACK_BOT_TOKEN=$/m, 'missing names are appended');
  assert.equal(env.match(/ANTHROPIC_API_KEY/g)!.length, 1);
  assert.equal(statSync(join(dir, '.env')).mode & 0o777, 0o600);
});

test('init appends its .gitignore lines once, keeping what was there', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.gitignore'), 'node_modules/\n.env\n');
  assert.equal((await runCli(['init', dir, '--yes'])).code, 0);
  assert.equal((await runCli(['init', dir, '--yes', '--force'])).code, 0);
  const lines = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
  assert.equal(lines[0], 'node_modules/');
  for (const line of ['.env', '.mithai/', 'memory/approvals.json', 'memory/daily/']) {
    assert.equal(lines.filter((l) => l === line).length, 1, `${line} appears once`);
  }
});

test('audit verify names the first tampered line and exits non-zero', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'approvals.json');
  const { AuditLog } = await import('../../src/audit/audit-log.ts');
  const { Redactor } = await import('../../src/security/redactor.ts');
  const { AuditStore } = await import('../../src/state/audit-store.ts');
  const { IN_MEMORY, openDatabase } = await import('../../src/state/database.ts');
  const db = openDatabase(IN_MEMORY);
  t.after(() => db.close());
  const log = AuditLog.open(file, { redactor: new Redactor(), store: new AuditStore(db) });
  for (let i = 0; i < 3; i++) {
    log.append({ event: 'decision', approval_id: `a${i}`, call_id: `c${i}`, session: 's', requester: 'U1', decider: 'U1', tool: 't__x', level: 'approve', level_reason: 'declared', decision: 'approved', fingerprint: 'f', input: { i }, status: 'pending', reason: null });
  }
  log.flush();
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[1] = lines[1]!.replace('"approved"', '"denied"');
  writeFileSync(file, lines.join('\n'));
  writeFileSync(join(dir, 'config.yaml'), '');
  const run = await runCli(['audit', 'verify', '--file', file, '--config', join(dir, 'config.yaml')]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /line 2/);
});

test('a broken config is a one-line error naming the key and the file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.yaml'), 'human:\n  timeout_secs: 10\n');
  const run = await runCli(['doctor', '--config', join(dir, 'config.yaml')]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /human\.timeout_secs/);
  const chat = await runCli(['chat', '--config', join(dir, 'config.yaml')]);
  assert.equal(chat.code, 1);
  assert.match(chat.stderr, /config\.yaml.*human\.timeout_secs/);
});

test('a literal secret in config.yaml is refused without printing it', async (t) => {
  const dir = tempDir(t);
  const secret = 'xoxb-123456789012-abcdefghijklmnop';
  writeFileSync(join(dir, 'config.yaml'), `adapter:\n  slack:\n    bot_token: ${secret}\n`);
  const run = await runCli(['chat', '--config', join(dir, 'config.yaml')]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /adapter\.slack\.bot_token/);
  assert.match(run.stderr, /line 3/);
  assert.ok(!run.stderr.includes(secret));
});

/*
 * Confirm means a second human by default: init asks "Should confirm calls need a second
 * person?" (yes unless answered no), takes --confirm-second-person / --no-confirm-second-person
 * instead of asking, and writes the answer into config.yaml as
 * human.confirm_requires_second_person, so the generated project says which setup it is.
 */
test('init --yes writes confirm_requires_second_person: true; --no-confirm-second-person writes false for a solo setup', async (t) => {
  const { loadConfig } = await import('../../src/config/load-config.ts');
  const team = tempDir(t);
  const byDefault = await runCli(['init', team, '--yes']);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.match(readFileSync(join(team, 'config.yaml'), 'utf8'), /^ {2}confirm_requires_second_person: true\b/m);
  assert.equal(loadConfig(join(team, 'config.yaml'), { env: {} }).config.human.confirm_requires_second_person, true);
  assert.match(byDefault.stdout, /Confirm calls need a second person \(human\.confirm_requires_second_person: true/);

  const solo = tempDir(t);
  const alone = await runCli(['init', solo, '--yes', '--no-confirm-second-person']);
  assert.equal(alone.code, 0, alone.stderr);
  const text = readFileSync(join(solo, 'config.yaml'), 'utf8');
  assert.match(text, /^ {2}confirm_requires_second_person: false\b/m);
  assert.equal(text.match(/confirm_requires_second_person/g)!.length, 1, 'one line, not a second one added');
  assert.equal(loadConfig(join(solo, 'config.yaml'), { env: {} }).config.human.confirm_requires_second_person, false);
  assert.match(alone.stdout, /a solo setup/);
});

/** Answer init's questions one at a time, as a person would: each line once its prompt is shown. */
async function askWith(answers: string[], options: Record<string, unknown> = {}): Promise<{ answers: Awaited<ReturnType<typeof import('../../src/cli/init.ts').askAnswers>>; shown: string }> {
  const { askAnswers } = await import('../../src/cli/init.ts');
  const { PassThrough } = await import('node:stream');
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  let prompts = 0;
  output.on('data', (d: Buffer) => {
    shown += d.toString();
    // A prompt ends with ": " and waits; answer it with the next line.
    if (shown.endsWith(': ') && prompts < answers.length) input.write(`${answers[prompts++]}\n`);
  });
  const result = await askAnswers(options, { input, output, interactive: true });
  return { answers: result, shown };
}

test('interactive init asks whether confirm calls need a second person: Enter means yes, "n" a solo setup, anything else asks again', async (t) => {
  const yes = await askWith(['', '', '', '']);
  assert.match(yes.shown, /Should confirm calls need a second person\? \[Y\/n\]: /);
  assert.equal(yes.answers.confirm_requires_second_person, true);

  const no = await askWith(['opsbot', '', 'all', 'n']);
  assert.deepEqual(no.answers, { bot_name: 'opsbot', model: 'claude-sonnet-4-6', respond: 'all', confirm_requires_second_person: false });

  const again = await askWith(['', '', '', 'maybe', 'yes']);
  assert.match(again.shown, /Please answer y or n\.\nShould confirm calls need a second person\?/);
  assert.equal(again.answers.confirm_requires_second_person, true);

  // A flag answers the question: it is not asked.
  const flagged = await askWith(['', '', ''], { confirmSecondPerson: false });
  assert.doesNotMatch(flagged.shown, /second person/);
  assert.equal(flagged.answers.confirm_requires_second_person, false);

  // What was answered is what the project gets.
  const { initProject } = await import('../../src/cli/init.ts');
  const { loadConfig } = await import('../../src/config/load-config.ts');
  const dir = tempDir(t);
  initProject(dir, no.answers, false);
  assert.equal(loadConfig(join(dir, 'config.yaml'), { env: {} }).config.human.confirm_requires_second_person, false);
});

test('the answer reaches config.yaml whatever the template holds: its line, a placeholder, or no line at all', async () => {
  const { withConfirmSetting } = await import('../../src/cli/init.ts');
  const { parse } = await import('yaml');
  const read = (text: string): unknown => (parse(text) as { human?: { confirm_requires_second_person?: unknown } }).human?.confirm_requires_second_person;
  assert.equal(read(withConfirmSetting('human:\n  timeout_seconds: 300\n  confirm_requires_second_person: false   # note\n', true)), true);
  assert.match(withConfirmSetting('human:\n  confirm_requires_second_person: false   # note\n', true), /: true {3}# note/, 'a comment on the line is kept');
  assert.equal(read(withConfirmSetting('human:\n  confirm_requires_second_person: {{confirm_requires_second_person}}\n', false)), false);
  assert.equal(read(withConfirmSetting('bot:\n  name: x\nhuman:\n  timeout_seconds: 300\nmemory:\n  path: ./memory\n', false)), false);
  assert.equal(read(withConfirmSetting('bot:\n  name: x\n', true)), true);
});
