/**
 * The built-in `shell` skill, driven through its tools as the runtime would and with real
 * programs: only allowed commands run, by absolute path, without credentials in their
 * environment, under a time limit that kills the whole process group and an output cap; every
 * hostile argv is refused naming its rule and runs nothing (a recorder program that every
 * hostile call aims at never leaves a trace); read-only commands run auto and everything else
 * asks for a typed confirmation; broken settings refuse every command, naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestToolContext } from '../../src/testing/index.ts';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { SAFE_SEARCH_PATH } from '../../src/skills/program-resolver.ts';
import type { ToolContext } from '../../src/skills/types.ts';
import skill, { confirmPhrase, MAX_PHRASE_CHARS } from '../../skills/shell/tools.ts';
import type { CommandResult } from '../../skills/shell/command-result.ts';
import { silentLogger, tempDir } from './skill-fixtures.ts';
import { gone } from '../fixtures/process-liveness.ts';

const runCommand = skill.tools.run_command!;
const listCommands = skill.tools.list_commands!;

function contextWith(config: Record<string, unknown>, overrides: Partial<ToolContext> = {}): ToolContext {
  return createTestToolContext({ config, ...overrides });
}

async function run(ctx: ToolContext, argv: string[]): Promise<CommandResult> {
  return (await runCommand.handle({ argv }, ctx)) as CommandResult;
}

async function refusal(ctx: ToolContext, argv: string[]): Promise<Error> {
  try {
    await runCommand.handle({ argv }, ctx);
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail(`${JSON.stringify(argv)} ran but must be refused`);
}

async function level(ctx: ToolContext, input: unknown, tool = 'run_command'): Promise<unknown> {
  return skill.resolveHuman!(tool, input, ctx);
}

/** Write an executable shell script. */
function script(dir: string, name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** Set environment variables for one test; restored when it ends. */
function setEnv(t: { after(fn: () => void): void }, values: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test('an allowed command runs by absolute path, without a shell, and its result is data', async () => {
  const ctx = contextWith({ allowed_commands: [['echo'], ['ls']] });
  const result = await run(ctx, ['echo', 'hello world', '10 min ago', '$HOME', '*', 'naïve']);
  assert.equal(result.exit_code, 0);
  assert.equal(result.stdout, 'hello world 10 min ago $HOME * naïve\n', 'spaces, $ and * reach the program as they are');
  assert.equal(result.stderr, '');
  assert.ok(result.argv[0]!.startsWith('/'));
  assert.equal(realpathSync(result.argv[0]!), realpathSync('/usr/bin/echo'));
  assert.equal(result.timed_out, false);
  assert.equal(result.signal, null);
  assert.equal(typeof result.duration_ms, 'number');
  assert.equal(result.note, undefined);
});

test('a non-zero exit is an ordinary result with stderr, not an error', async () => {
  const ctx = contextWith({ allowed_commands: [['ls']] });
  const result = await run(ctx, ['ls', '/no/such/folder/here']);
  assert.notEqual(result.exit_code, 0);
  assert.match(result.stderr, /no\/such\/folder/);
  assert.equal(result.stdout, '');
});

test('with no settings, or an empty list, every command is refused with how to allow one', async () => {
  for (const config of [{}, { allowed_commands: [] }]) {
    const ctx = contextWith(config);
    const err = await refusal(ctx, ['echo', 'hi']);
    assert.match(err.message, /^refused \(not_allowed\): no command is allowed/);
    assert.match(err.message, /skills\.config\.shell\.allowed_commands/);
    assert.match(err.message, /\[systemctl, status\]/);
    assert.equal(await level(ctx, { argv: ['echo', 'hi'] }), 'confirm');
    assert.match(String(await listCommands.handle({}, ctx)), /No command is allowed/);
  }
});

test('every hostile argv is refused naming its rule, runs nothing, and asks for confirmation', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  const bin = join(root, 'bin');
  const other = join(root, 'other');
  mkdirSync(bin);
  mkdirSync(other);
  const trace = join(root, 'ran.log');
  // The recorder is the allowed program; any call that reaches it leaves a line in ran.log.
  // Fakes of the same name elsewhere, and of sudo/sh/env, leave one too.
  const record = `echo "$0 $*" >> '${trace}'`;
  script(bin, 'recorder', record);
  script(other, 'recorder', record);
  script(bin, 'exactly', record);
  for (const name of ['sudo', 'su', 'sh', 'bash', 'python3', 'node', 'perl', 'eval', 'exec', 'touch']) script(other, name, record);
  symlinkSync(join(bin, 'recorder'), join(bin, 'rec'));
  const ctx = contextWith({
    allowed_commands: [
      ['recorder'],
      { prefix: ['recorder', 'status'], options: ['--no-pager'] },
      { prefix: ['exactly', 'this'], exact: true },
      ['env'],
    ],
    read_only_commands: [['recorder', 'status']],
    path: [bin, ...SAFE_SEARCH_PATH],
    cwd: other,
  });
  const hostile: Array<[string[], string]> = [
    [['recorder', 'a;touch x'], 'shell_syntax'],
    [['recorder', 'x', '&&', 'id'], 'shell_syntax'],
    [['recorder', 'x', '||', 'id'], 'shell_syntax'],
    [['recorder', '|', 'id'], 'shell_syntax'],
    [['recorder', '&'], 'shell_syntax'],
    [['recorder', '`id`'], 'shell_syntax'],
    [['recorder', '$(id)'], 'shell_syntax'],
    [['recorder', '${IFS}id'], 'shell_syntax'],
    [['recorder', '>', '/etc/passwd'], 'shell_syntax'],
    [['recorder', '<', '/etc/shadow'], 'shell_syntax'],
    [['recorder', '2>/dev/null'], 'shell_syntax'],
    [['recorder', 'a\nid'], 'invisible_character'],
    [['recorder', 'a\r\nid'], 'invisible_character'],
    [['recorder', '\uFF1Bid'], 'shell_syntax'], // fullwidth ；
    [['recorder', '\uFF06\uFF06', 'id'], 'shell_syntax'], // fullwidth ＆＆
    [['recorder', '\uFF5C', 'id'], 'shell_syntax'], // fullwidth ｜
    [['recorder', 'x\u200B'], 'invisible_character'], // zero-width space
    [['recorder', '\u202Etxt.exe'], 'invisible_character'], // right-to-left override
    [['recorder', 'a\u0000b'], 'invisible_character'], // NUL
    [['recorder', 'a'.repeat(1025)], 'argument_too_long'],
    [['recorder', 'x'.repeat(1_000_000)], 'argument_too_long'],
    [['recorder', ...Array.from({ length: 64 }, () => 'x')], 'too_many_arguments'],
    [['recorder', ...Array.from({ length: 100_000 }, () => 'x')], 'too_many_arguments'],
    [[], 'empty_argv'],
    [[''], 'empty_argv'],
    [['\uFF52ecorder'], 'program_name'], // fullwidth ｒ
    [['r\u0435corder'], 'program_name'], // Cyrillic е
    [['recorder\u200B'], 'invisible_character'],
    [['sudo', 'recorder'], 'privilege'],
    [['su', '-c', 'recorder'], 'privilege'],
    [['recorder', 'sudo'], 'privilege'],
    [['eval', 'recorder'], 'privilege'],
    [['exec', 'recorder'], 'privilege'],
    [['sh', '-c', 'recorder'], 'inline_code'],
    [['bash', '-c', 'recorder'], 'inline_code'],
    [['python3', '-c', 'import os'], 'inline_code'],
    [['node', '-e', 'require("fs")'], 'inline_code'],
    [['perl', '-e', 'system("id")'], 'inline_code'],
    [['recorder', '--', 'sh', '-c', 'id'], 'inline_code'],
    [['recorder', '-exec', 'id', '+'], 'exec_option'],
    [['recorder', '--kubeconfig=/tmp/evil'], 'exec_option'],
    [['recorder', '-oProxyCommand=id'], 'exec_option'],
    [['recorder', '--output=/etc/passwd'], 'option_not_allowed'],
    [['recorder', '-o', '/etc/passwd'], 'option_not_allowed'],
    [['recorder', '--', '-o', '/etc/passwd'], 'option_not_allowed'],
    [['recorder', '\uFF0D\uFF0Doutput'], 'option_not_allowed'], // fullwidth hyphens
    [['recorder', 'status', '-f'], 'option_not_allowed'],
    [['exactly', 'this', 'more'], 'extra_arguments'],
    [['exactly', 'that'], 'not_allowed'],
    [['env', 'recorder'], 'runner_arguments'],
    [['/usr/bin/env', 'recorder'], 'runner_arguments'],
    [[join(other, 'recorder')], 'different_binary'], // a path to a look-alike
    [['./recorder'], 'different_binary'], // relative to cwd, which holds a look-alike
    [['../other/recorder'], 'different_binary'],
    [[`${bin}/../other/recorder`], 'different_binary'],
    [['rec'], 'not_allowed'], // a symlink to the recorder under another name
    [['touch', join(root, 'marker')], 'not_allowed'],
    [['no-such-program', 'x'], 'not_allowed'],
  ];
  for (const [argv, rule] of hostile) {
    const label = JSON.stringify(argv.map((a) => (a.length > 40 ? `${a.slice(0, 20)}…(${a.length})` : a))).slice(0, 200);
    const err = await refusal(ctx, argv);
    assert.ok(err.message.startsWith(`refused (${rule}): `), `${label}: ${err.message}`);
    assert.ok(err.message.length < 1000, `${label}: a bounded message`);
    assert.equal(await level(ctx, { argv }), 'confirm', `${label}: level`);
  }
  assert.equal(existsSync(trace), false, 'no hostile call reached any program');
  assert.equal(existsSync(join(root, 'marker')), false);

  // The control: the same recorder, called as allowed, does leave its trace.
  const result = await run(ctx, ['recorder', 'status', 'nginx', '--no-pager']);
  assert.equal(result.exit_code, 0);
  assert.equal(result.argv[0], join(bin, 'recorder'));
  assert.equal(readFileSync(trace, 'utf8'), `${join(bin, 'recorder')} status nginx --no-pager\n`);
});

test('a hostile argv fails input validation, so it never reaches the policy or an approver', () => {
  const validate = (input: unknown) => runCommand.input.safeParse(input);
  for (const argv of [['echo', 'a;b'], ['echo', 'x\u202E'], ['sudo', 'id'], ['bash', '-c', 'id'], ['find', '.', '-exec', 'id'], ['\u0455ystemctl'], []]) {
    const parsed = validate({ argv });
    assert.equal(parsed.success, false, JSON.stringify(argv));
  }
  const guarded = validate({ argv: ['echo', 'a;b'] });
  assert.match(JSON.stringify(guarded.error?.issues), /refused \(shell_syntax\)/);
  assert.equal(validate({ command: 'ls -la' }).success, false, 'a command string is not accepted');
  assert.equal(validate({ argv: ['ls'], command: 'ls' }).success, false, 'no extra keys');
  assert.equal(validate({ argv: ['echo', 'x'.repeat(1025)] }).success, false);
  assert.equal(validate({ argv: Array.from({ length: 65 }, () => 'x') }).success, false);
  assert.equal(validate({ argv: ['journalctl', '--since', '10 min ago'] }).success, true);
});

test('levels: read-only prefixes auto, allowed otherwise confirm, anything else confirm', async () => {
  const ctx = contextWith({
    allowed_commands: [
      { prefix: ['ls'], options: ['-l', '-a'] },
      { prefix: ['cat', '/etc/hostname'], exact: true },
      ['echo'],
      { prefix: ['df', '-h'], exact: true },
      ['sort', '*'],
    ],
    read_only_commands: [['ls'], ['echo', 'hello'], ['df', '-h'], ['cat', '/etc/hostname'], ['sort', '*']],
  });
  const cases: Array<[unknown, 'confirm' | null]> = [
    [{ argv: ['ls'] }, null],
    [{ argv: ['ls', '-l', '/var'] }, null],
    [{ argv: ['/usr/bin/ls', '-a'] }, null],
    [{ argv: ['ls', '-R'] }, 'confirm'], // option not allowed
    [{ argv: ['echo', 'hello', 'world'] }, null],
    [{ argv: ['echo', 'bye'] }, 'confirm'], // allowed, not read-only
    [{ argv: ['echo'] }, 'confirm'],
    [{ argv: ['df', '-h'] }, null],
    [{ argv: ['df', '-h', '/'] }, 'confirm'], // exact
    [{ argv: ['df'] }, 'confirm'],
    [{ argv: ['cat', '/etc/hostname'] }, null],
    [{ argv: ['cat', '/etc/shadow'] }, 'confirm'],
    [{ argv: ['cat', '/etc/hostname', '/etc/shadow'] }, 'confirm'],
    [{ argv: ['sort', '/etc/hostname'] }, null],
    [{ argv: ['sort', '-o', '/etc/passwd'] }, 'confirm'],
    [{ argv: ['sort', '/etc/hostname', '--output=/etc/passwd'] }, 'confirm'],
    [{ argv: ['echo', 'hello;id'] }, 'confirm'],
    [{ argv: ['rm', '-rf', '/'] }, 'confirm'],
    [{ argv: [] }, 'confirm'],
    [{ argv: 'ls' }, 'confirm'],
    [{ argv: [1, 2] }, 'confirm'],
    [{}, 'confirm'],
    [null, 'confirm'],
    ['ls', 'confirm'],
  ];
  if (existsSync('/bin/ls') && realpathSync('/bin/ls') === realpathSync('/usr/bin/ls')) cases.push([{ argv: ['/bin/ls'] }, null]);
  for (const [input, expected] of cases) assert.equal(await level(ctx, input), expected, JSON.stringify(input));
  assert.equal(await level(ctx, { argv: ['ls'] }, 'another_tool'), 'confirm');
  assert.equal(await level(contextWith({ allowed_commands: 'ls' }), { argv: ['ls'] }), 'confirm', 'broken settings');
});

test('a read-only prefix names the binary: the same name found elsewhere is not read-only', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  script(root, 'ls', 'exit 0');
  const ctx = contextWith({ allowed_commands: [['ls'], [join(root, 'ls')]], read_only_commands: [['ls']] });
  assert.equal(await level(ctx, { argv: ['ls'] }), null);
  assert.equal(await level(ctx, { argv: [join(root, 'ls')] }), 'confirm', 'allowed, but the read-only ls is /usr/bin/ls');
});

test('PATH tricks: a fake earlier on the runtime PATH is never run; the child PATH is the skill path', async (t) => {
  const fakes = tempDir(t, 'mithai-shell-fakes-');
  const marker = join(fakes, 'fake-ran');
  for (const name of ['echo', 'env']) script(fakes, name, `touch '${marker}'`);
  setEnv(t, { PATH: `${fakes}:${process.env.PATH ?? ''}` });
  const ctx = contextWith({ allowed_commands: [['echo'], ['env']] });
  const result = await run(ctx, ['echo', 'hi']);
  assert.equal(result.stdout, 'hi\n');
  assert.ok(!result.argv[0]!.startsWith(fakes));
  const env = await run(ctx, ['env']);
  const childPath = env.stdout.split('\n').find((line) => line.startsWith('PATH='));
  assert.equal(childPath, `PATH=${SAFE_SEARCH_PATH.join(':')}`);
  const err = await refusal(ctx, [join(fakes, 'echo'), 'hi']);
  assert.match(err.message, /^refused \(different_binary\)/);
  assert.equal(existsSync(marker), false, 'no fake ran');

  // A configured path is used for both the lookup and the child.
  const own = contextWith({ allowed_commands: [['env']], path: '/usr/bin:/bin' });
  const ownEnv = await run(own, ['env']);
  assert.ok(ownEnv.stdout.split('\n').includes('PATH=/usr/bin:/bin'));
});

test('options that write files or run commands are refused before a real program could act on them', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  const marker = join(root, 'marker');
  const ctx = contextWith({ allowed_commands: [{ prefix: ['find'], options: ['-name', '-type'] }, ['sort', '/etc/hostname']] });
  for (const [argv, rule] of [
    [['find', root, '-exec', 'touch', marker, '+'], 'exec_option'],
    [['find', root, '-fprint', marker], 'exec_option'],
    [['find', root, '-name', '*', '-execdir', 'touch', marker, '+'], 'exec_option'],
    [['sort', '/etc/hostname', `--output=${marker}`], 'option_not_allowed'],
    [['sort', '/etc/hostname', '-o', marker], 'option_not_allowed'],
    [['sort', '/etc/hostname', '--', '-o', marker], 'option_not_allowed'],
  ] as Array<[string[], string]>) {
    const err = await refusal(ctx, argv);
    assert.ok(err.message.startsWith(`refused (${rule}): `), `${argv.join(' ')}: ${err.message}`);
  }
  assert.equal(existsSync(marker), false);
  const found = await run(ctx, ['find', root, '-type', 'd', '-name', '*']);
  assert.equal(found.stdout, `${root}\n`);
  // The control: with --output listed, the same sort does write the file.
  const listed = contextWith({ allowed_commands: [{ prefix: ['sort', '/etc/hostname'], options: ['--output'] }] });
  await run(listed, ['sort', '/etc/hostname', `--output=${marker}`]);
  assert.equal(existsSync(marker), true);
});

test('a program in a folder anyone can write is refused, even when the operator put it on the path', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  const open = join(root, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const marker = join(root, 'ran');
  script(open, 'echo', `touch '${marker}'`);
  const ctx = contextWith({ allowed_commands: [['echo']], path: [open, '/usr/bin', '/bin'] });
  const err = await refusal(ctx, ['echo', 'hi']);
  assert.match(err.message, /^refused \(program_unavailable\): .*writable by every user/);
  assert.equal(existsSync(marker), false);
});

test('a relative program path is resolved from cwd and runs when it is the allowed binary', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  script(root, 'tool', 'pwd');
  const ctx = contextWith({ allowed_commands: [['tool']], path: [root], cwd: root });
  const result = await run(ctx, ['./tool']);
  assert.equal(result.stdout, `${root}\n`);
  assert.equal(result.argv[0], join(root, 'tool'));
  assert.equal((await run(contextWith({ allowed_commands: [['pwd']] }), ['pwd'])).stdout, '/\n', 'the default cwd is /');
});

test('the child environment has no credentials and no code-loading variables', async (t) => {
  const secrets = {
    SLACK_BOT_TOKEN: 'xoxb-shell-test-1', SLACK_APP_TOKEN: 'xapp-shell-test-1', ANTHROPIC_API_KEY: 'sk-ant-shell-test',
    AWS_ACCESS_KEY_ID: 'AKIASHELLTEST', AWS_SECRET_ACCESS_KEY: 'aws-shell-secret', AWS_SESSION_TOKEN: 'aws-session',
    GITHUB_TOKEN: 'ghp_shelltest', MY_SERVICE_TOKEN: 'svc-token', DB_PASSWORD: 'db-pass', STRIPE_SECRET: 'stripe-s',
    OPENAI_API_KEY: 'sk-openai', DEPLOY_KEY: 'deploy-key', GOOGLE_APPLICATION_CREDENTIALS: '/secrets/gcp.json',
    BASH_ENV: '/tmp/shell-test-rc', NODE_OPTIONS: '--no-warnings', PYTHONSTARTUP: '/tmp/x.py', PERL5OPT: '-w',
    'BASH_FUNC_ls%%': '() { id; }',
  };
  setEnv(t, { ...secrets, SHELL_TEST_HARMLESS: 'visible' });
  const ctx = contextWith({ allowed_commands: [['env']] });
  const env = await run(ctx, ['env']);
  const names = env.stdout.split('\n').filter(Boolean).map((line) => line.slice(0, line.indexOf('=')));
  assert.ok(names.includes('SHELL_TEST_HARMLESS'), 'ordinary variables pass');
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!names.includes(name), `${name} must not reach the child`);
    assert.ok(!env.stdout.includes(value), `the value of ${name} must not reach the child`);
  }
});

test('the time limit kills the command and every process it started', async (t) => {
  const root = tempDir(t, 'mithai-shell-');
  // Starts a grandchild, prints its pid, and waits for it.
  script(root, 'spawner', 'sleep 30 &\necho $!\nwait');
  const ctx = contextWith({ allowed_commands: [['sleep'], ['spawner']], timeout_seconds: 1, path: [root, ...SAFE_SEARCH_PATH] });
  const slept = await run(ctx, ['sleep', '30']);
  assert.equal(slept.timed_out, true);
  assert.equal(slept.exit_code, null);
  assert.ok(slept.signal !== null);
  assert.ok(slept.duration_ms >= 900 && slept.duration_ms < 5_000, `took ${slept.duration_ms} ms`);
  assert.match(slept.note ?? '', /stopped after 1 s .*timeout_seconds.*killed/);

  const spawned = await run(ctx, ['spawner']);
  assert.equal(spawned.timed_out, true);
  const grandchild = Number(spawned.stdout.trim());
  assert.ok(grandchild > 0, `pid in ${JSON.stringify(spawned.stdout)}`);
  assert.ok(await gone(grandchild, 5_000), 'the grandchild was killed with its group');
});

test('a cancelled call stops its command', async () => {
  const controller = new AbortController();
  const ctx = contextWith({ allowed_commands: [['sleep']] }, { signal: controller.signal });
  const running = run(ctx, ['sleep', '30']);
  setImmediate(() => controller.abort());
  const result = await running;
  assert.equal(result.timed_out, false);
  assert.match(result.note ?? '', /cancelled/);
});

test('output beyond max_output_bytes is counted and noted, per stream', async () => {
  const ctx = contextWith({ allowed_commands: [['seq']], max_output_bytes: 1000 });
  const result = await run(ctx, ['seq', '1', '100000']);
  let total = 0;
  for (let i = 1; i <= 100_000; i++) total += String(i).length + 1;
  assert.ok(result.stdout.startsWith('1\n2\n3\n'));
  assert.ok(result.stdout.endsWith(`\n… ${total - 1000} more bytes not shown`), result.stdout.slice(-80));
  assert.equal(result.stdout.length, 1000 + `\n… ${total - 1000} more bytes not shown`.length - (result.stdout.slice(0, 1000).endsWith('\n') ? 1 : 0));
  const defaults = contextWith({ allowed_commands: [['seq']] });
  const big = await run(defaults, ['seq', '1', '100000']);
  assert.ok(big.stdout.endsWith(`… ${total - 10_240} more bytes not shown`), 'the default cap is 10 KiB');
});

test('settings are checked whole; each mistake names its key, and nothing runs', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ allowed_commands: ['systemctl status'] }, /skills\.config\.shell\.allowed_commands\[0\]: expected a list such as \[systemctl, status\]/],
    [{ allowed_commands: 'ls' }, /skills\.config\.shell\.allowed_commands: expected array/],
    [{ allowed_commands: [['ls'], []] }, /allowed_commands\[1\]: a command needs at least its program/],
    [{ allowed_commands: [['ls', '']] }, /allowed_commands\[0\]\[1\]: an argument must not be empty/],
    [{ allowed_commands: [['ls'], ['bash']] }, /allowed_commands\[1\]: the interpreter bash alone would run any script/],
    [{ allowed_commands: [['python3', '-u']] }, /allowed_commands\[0\]: the interpreter python3 alone/],
    [{ allowed_commands: [['sudo', 'systemctl']] }, /allowed_commands\[0\]: .*"sudo"/],
    [{ allowed_commands: [['bash', '-c', 'uptime']] }, /allowed_commands\[0\]: .*inline code/],
    [{ allowed_commands: [['systemctl', 'status;id']] }, /allowed_commands\[0\]: .*";"/],
    [{ allowed_commands: [['./tool']] }, /allowed_commands\[0\]: the program \[\.\/tool\] must be a name or an absolute path/],
    [{ allowed_commands: [['env', '*']] }, /allowed_commands\[0\]: env runs the command in its arguments/],
    [{ allowed_commands: [{ prefix: ['find', '/var'], options: ['-exec'] }] }, /allowed_commands\[0\]\.options\[0\]: .*always refused/],
    [{ allowed_commands: [{ prefix: ['ls'], options: ['l'] }] }, /allowed_commands\[0\]\.options\[0\]: an option starts with "-"/],
    [{ allowed_commands: [{ prefix: ['ls'], opts: ['-l'] }] }, /allowed_commands\[0\]: unknown key "opts"; expected prefix, options, exact/],
    [{ allowed_commands: [{ prefix: ['ls'], exact: 'yes' }] }, /allowed_commands\[0\]\.exact: expected boolean/],
    [{ allowed_commands: [['kubectl', 'get']], read_only_commands: [['kubectl']] }, /read_only_commands\[0\]: \[kubectl\] is not within any of allowed_commands/],
    [{ read_only_commands: [['journalctl']] }, /read_only_commands\[0\]: \[journalctl\] is not within/],
    [{ allowed_commands: [{ prefix: ['df', '-h'], exact: true }], read_only_commands: [['df', '-h', '/']] }, /read_only_commands\[0\]/],
    [{ allowed_commands: [['ls', 'a']], read_only_commands: [['ls', '*']] }, /read_only_commands\[0\]/],
    [{ timeout_seconds: 0 }, /timeout_seconds: Too small/i],
    [{ timeout_seconds: 601 }, /timeout_seconds: Too big/i],
    [{ timeout_seconds: 'soon' }, /timeout_seconds: expected number/],
    [{ max_output_bytes: 1.5 }, /max_output_bytes: expected int/],
    [{ max_output_bytes: 0 }, /max_output_bytes: Too small/i],
    [{ path: 'bin:/usr/bin' }, /path\[0\]: must be an absolute folder/],
    [{ path: '/usr/bin::/bin' }, /path\[1\]: must be an absolute folder/],
    [{ path: [] }, /path: needs at least one folder/],
    [{ cwd: 'relative' }, /cwd: must be an absolute folder/],
    [{ allowed_command: [['ls']] }, /skills\.config\.shell: unknown key "allowed_command"; expected allowed_commands, read_only_commands/],
  ];
  for (const [config, message] of cases) {
    const ctx = contextWith({ allowed_commands: [['ls']], ...config });
    const err = await refusal(ctx, ['ls']);
    assert.match(err.message, /^the shell skill's settings are invalid, so no command runs/, JSON.stringify(config));
    assert.match(err.message, message, JSON.stringify(config));
    assert.equal(await level(ctx, { argv: ['ls'] }), 'confirm');
  }
});

test('numbers may come as strings from ${VAR} substitution', async () => {
  const ctx = contextWith({ allowed_commands: [['seq']], max_output_bytes: '10', timeout_seconds: '5' });
  const result = await run(ctx, ['seq', '1', '100']);
  assert.ok(result.stdout.startsWith('1\n2\n3\n4\n5'));
  assert.match(result.stdout, /more bytes not shown/);
});

test('the confirmation phrase is the argv joined, or the program name and a code of the argv when the join would not read back or is long', () => {
  assert.equal(confirmPhrase(['systemctl', 'restart', 'nginx']), 'systemctl restart nginx');
  assert.match(runCommand.confirmPhrase!({ argv: ['journalctl', '--since', '10 min ago'] }), /^journalctl [0-9a-f]{8}$/, 'an element with spaces');
  const long = confirmPhrase(['/usr/bin/kubectl', 'delete', 'pod', 'x'.repeat(MAX_PHRASE_CHARS)]);
  assert.match(long, /^kubectl [0-9a-f]{8}$/);
  assert.equal(confirmPhrase(['/usr/bin/kubectl', 'delete', 'pod', 'x'.repeat(MAX_PHRASE_CHARS)]), long, 'the same argv, the same phrase');
});

test('list_commands tells the model what is allowed and what runs at once', async () => {
  const ctx = contextWith({
    allowed_commands: [['systemctl', 'status'], { prefix: ['journalctl', '-u', '*'], options: ['--since'] }, { prefix: ['df', '-h'], exact: true }, ['env']],
    read_only_commands: [['systemctl', 'status']],
  });
  const text = String(await listCommands.handle({}, ctx));
  assert.match(text, /- \[systemctl, status\]: more arguments may follow, but no options/);
  assert.match(text, /- \[journalctl, -u, \*\]: more arguments may follow; of the options only --since/);
  assert.match(text, /- \[df, -h\]: exactly as listed/);
  assert.match(text, /- \[env\]: exactly as listed/);
  assert.match(text, /Read-only \(run at once\): \[systemctl, status\]/);
});

test('the skill loads as the built-in shell: a dynamic, untrusted-output, not read-only run_command', async () => {
  const { skills, errors } = await loadSkills({ paths: [], builtin: ['shell'], defaultTimeoutMs: 60_000, logger: silentLogger });
  assert.deepEqual(errors, []);
  const shell = skills.find((s) => s.name === 'shell');
  assert.ok(shell);
  const tool = shell.tools.find((t) => t.localName === 'run_command');
  assert.ok(tool);
  assert.equal(tool.declared, 'dynamic');
  assert.equal(tool.readOnly, false);
  assert.equal(tool.untrustedOutput, true);
  assert.ok((tool.timeoutMs ?? 0) > 600_000, 'the runtime limit sits above the largest timeout_seconds');
  assert.deepEqual(Object.keys(tool.inputSchema.properties as object), ['argv']);
  const invalid = tool.validate({ argv: ['echo', 'a|b'] });
  assert.equal(invalid.ok, false);
  if (!invalid.ok) assert.match(invalid.error, /argv: refused \(shell_syntax\)/);
  const list = shell.tools.find((t) => t.localName === 'list_commands');
  assert.equal(list?.declared, 'auto');
  assert.equal(list?.readOnly, true);
  assert.match(shell.instructions, /argv array/);
});


