/**
 * `mithai doctor` and `mithai doctor --strict` on temp projects. Without --strict a warning keeps
 * exit 0; with --strict every warning makes the exit non-zero, so it can gate a deploy. The real
 * CLI runs as a child process for the main cases; every single warning the doctor knows (one
 * project per warning) goes through `main(['doctor', ...])` in-process, which is much faster.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { main } from '../../src/cli/main.ts';
import { doctorOutput } from '../../src/cli/doctor.ts';
import { makeProject, runCli, type CliResult } from './chat-harness.ts';

interface Variant {
  users?: string;
  channels?: string;
  approvers?: string;
  tokens?: boolean;
  botToken?: string;
  skillsPath?: string;
  /** Change the project on disk after it is written. */
  after?: (dir: string) => void;
  /** Secrets to pass in the environment (when .env is gone). */
  env?: Record<string, string>;
}

const TOKENS = { SLACK_BOT_TOKEN: 'xoxb-doctor-test-0000', SLACK_APP_TOKEN: 'xapp-doctor-test-0000' };

/** A project with nothing to warn about, changed by `v`. */
function project(t: { after(fn: () => void): void }, v: Variant = {}): { dir: string; config: string } {
  const p = makeProject('http://127.0.0.1:9');
  t.after(() => p.cleanup());
  const tokens = v.tokens ?? true;
  writeFileSync(
    p.configPath,
    [
      'llm:',
      '  anthropic:',
      '    api_key: ${ANTHROPIC_API_KEY}',
      'adapter:',
      '  slack:',
      ...(tokens ? ['    bot_token: ${SLACK_BOT_TOKEN}', '    app_token: ${SLACK_APP_TOKEN}'] : []),
      `    allowed_users: ${v.users ?? '[U1, U2]'}`,
      `    allowed_channels: ${v.channels ?? '[C1]'}`,
      'human:',
      `  approvers: ${v.approvers ?? '[UBOSS]'}`,
      'skills:',
      `  paths: [${v.skillsPath ?? './skills'}]`,
      '',
    ].join('\n'),
  );
  const env = [`ANTHROPIC_API_KEY=${FAKE_API_KEY}`, `SLACK_BOT_TOKEN=${v.botToken ?? TOKENS.SLACK_BOT_TOKEN}`, `SLACK_APP_TOKEN=${TOKENS.SLACK_APP_TOKEN}`];
  writeFileSync(join(p.dir, '.env'), `${env.join('\n')}\n`, { mode: 0o600 });
  v.after?.(p.dir);
  return { dir: p.dir, config: p.configPath };
}

/** Run `doctor` and `doctor --strict` as child processes, the developer's shell kept out of it. */
async function spawnDoctor(p: { dir: string; config: string }, v: Variant = {}, extra: string[] = []): Promise<[CliResult, CliResult]> {
  const env = { SLACK_BOT_TOKEN: undefined, SLACK_APP_TOKEN: undefined, ...v.env };
  return Promise.all([
    runCli(['doctor', '--config', p.config, ...extra], { cwd: p.dir, env }),
    runCli(['doctor', '--strict', '--config', p.config, ...extra], { cwd: p.dir, env }),
  ]);
}

const SHELL_SECRETS = ['ANTHROPIC_API_KEY', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN'] as const;

/** The same through `main()` in this process: output captured, the environment set for the call only. */
async function doctor(p: { dir: string; config: string }, v: Variant = {}, extra: string[] = []): Promise<[CliResult, CliResult]> {
  const saved = SHELL_SECRETS.map((k) => [k, process.env[k]] as const);
  const write = doctorOutput.write;
  const run = async (args: string[]): Promise<CliResult> => {
    let stdout = '';
    doctorOutput.write = (text) => void (stdout += text);
    try {
      return { code: await main(args), stdout, stderr: '' };
    } finally {
      doctorOutput.write = write;
    }
  };
  try {
    for (const k of SHELL_SECRETS) delete process.env[k];
    Object.assign(process.env, v.env);
    return [await run(['doctor', '--config', p.config, ...extra]), await run(['doctor', '--strict', '--config', p.config, ...extra])];
  } finally {
    for (const [k, value] of saved) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  }
}

const warnLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('warn'));

test('the real CLI: a clean project passes doctor and doctor --strict; a project with warnings passes doctor only', async (t) => {
  const clean = project(t);
  const warnings = project(t, { users: '[]', approvers: "['*']" });
  const failing = project(t, { botToken: 'not-a-bot-token' });
  const [[cleanPlain, cleanStrict], [warnPlain, warnStrict], [failPlain, failStrict]] = await Promise.all([spawnDoctor(clean), spawnDoctor(warnings), spawnDoctor(failing)]);
  assert.equal(cleanPlain.code, 0, cleanPlain.stdout + cleanPlain.stderr);
  assert.equal(cleanStrict.code, 0, cleanStrict.stdout + cleanStrict.stderr);
  assert.deepEqual(warnLines(cleanPlain.stdout), []);
  assert.equal(warnPlain.code, 0, warnPlain.stdout + warnPlain.stderr);
  assert.equal(warnStrict.code, 1, warnStrict.stdout + warnStrict.stderr);
  assert.equal(warnLines(warnPlain.stdout).length, 2, warnPlain.stdout);
  assert.match(warnStrict.stdout, /^FAIL  --strict: 2 warnings$/m);
  assert.equal(failPlain.code, 1);
  assert.equal(failStrict.code, 1);
});

test('a clean project: doctor and doctor --strict both exit 0 with no warning', async (t) => {
  const p = project(t);
  const [plain, strict] = await doctor(p);
  assert.equal(plain.code, 0, plain.stdout + plain.stderr);
  assert.equal(strict.code, 0, strict.stdout + strict.stderr);
  assert.deepEqual(warnLines(plain.stdout), []);
  assert.equal(plain.stdout, strict.stdout);
  assert.match(plain.stdout, /^ok {4}adapter\.slack\.allowed_users: only U1 and U2 \(ids no rule names are refused\)$/m);
  assert.match(plain.stdout, /^ok {4}human\.approvers: besides the requester, only UBOSS \(ids no rule names are refused\)$/m);
});

// Every warning doctor gives: the project that triggers it and the line it prints.
const WARNINGS: Array<{ name: string; variant: Variant; line: RegExp; count?: number }> = [
  { name: 'Slack tokens not set', variant: { tokens: false }, line: /Slack tokens are not set/ },
  { name: 'allowed_users empty', variant: { users: '[]' }, line: /adapter\.slack\.allowed_users is empty: everyone in the workspace can talk to the agent/ },
  { name: 'allowed_channels empty', variant: { channels: '[]' }, line: /adapter\.slack\.allowed_channels is empty: the agent answers in every channel it is in/ },
  { name: 'approvers empty', variant: { approvers: '[]' }, line: /human\.approvers is empty: only the requester can approve their own calls/ },
  {
    name: '.env missing',
    variant: { after: (dir) => rmSync(join(dir, '.env')), env: { ANTHROPIC_API_KEY: FAKE_API_KEY, ...TOKENS } },
    line: /\.env does not exist/,
  },
  {
    name: '.env sets a variable twice',
    variant: { after: (dir) => appendFileSync(join(dir, '.env'), `SLACK_BOT_TOKEN=xoxb-stale-token-value-1234\n`) },
    line: /^warn {2}\.env sets SLACK_BOT_TOKEN on lines \d+, \d+: only the last one is used; remove the others$/m,
  },
  { name: '.env readable by others', variant: { after: (dir) => chmodSync(join(dir, '.env'), 0o644) }, line: /\.env is readable by group\/others \(mode 644\)/ },
  {
    name: '.env tracked by git',
    variant: {
      after: (dir) => {
        execFileSync('git', ['init', '-q'], { cwd: dir, stdio: 'ignore' });
        execFileSync('git', ['add', '.env'], { cwd: dir, stdio: 'ignore' });
      },
    },
    line: /\.env is tracked by git/,
  },
  {
    name: 'no skills loaded',
    variant: { skillsPath: './no-skills', after: (dir) => mkdirSync(join(dir, 'no-skills')) },
    line: /skills: 0 loaded, 0 tools/,
  },
  { name: 'allowed_users admits everyone', variant: { users: "['*', U1]" }, line: /adapter\.slack\.allowed_users: everyone: everyone in the workspace can talk to the agent/, count: 2 },
  { name: 'allowed_channels admits no channel', variant: { channels: "['!*']" }, line: /adapter\.slack\.allowed_channels: nobody: the agent answers in no channel/ },
  { name: 'approvers contains *', variant: { approvers: "['*', '!U666']" }, line: /human\.approvers: rule 1 \* lets anyone not excluded after it approve/ },
  { name: 'approvers starting with an exclusion', variant: { approvers: "['!U666']" }, line: /human\.approvers: nobody besides the requester: only the requester can approve/, count: 2 },
  { name: 'a shadowed rule', variant: { users: '[U1, U1*]' }, line: /adapter\.slack\.allowed_users: rule 1 U1 never decides: every id it names is decided again by rule 2 U1\*/ },
  { name: 'an empty rule', variant: { users: "[U1, '!']" }, line: /adapter\.slack\.allowed_users: rule 2 "!" is empty and ignored/ },
];

describe('every warning', () => {
  for (const w of WARNINGS) {
    test(`warning "${w.name}": doctor exits 0, doctor --strict exits 1`, async (t) => {
      const p = project(t, w.variant);
      const [plain, strict] = await doctor(p, w.variant);
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      assert.equal(strict.code, 1, strict.stdout + strict.stderr);
      const warns = warnLines(plain.stdout);
      assert.ok(warns.some((l) => w.line.test(l)), `expected ${w.line} among:\n${plain.stdout}`);
      assert.equal(warns.length, w.count ?? 1, plain.stdout);
      assert.doesNotMatch(plain.stdout, /^FAIL/m);
      assert.match(strict.stdout, new RegExp(`^FAIL  --strict: ${warns.length} warnings?$`, 'm'));
    });
  }
});

test('a failing check exits 1 with or without --strict', async (t) => {
  const v: Variant = { botToken: 'not-a-bot-token' };
  const p = project(t, v);
  const [plain, strict] = await doctor(p, v);
  assert.equal(plain.code, 1);
  assert.equal(strict.code, 1);
  assert.match(plain.stdout, /^FAIL  adapter\.slack\.bot_token must be a bot token/m);
});

test('doctor --explain says how each list treats an id', async (t) => {
  const v: Variant = { users: "['!UBAD']", approvers: "[U1*, '!U13']" };
  const p = project(t, v);
  const [plain] = await doctor(p, v, ['--explain', 'U12', '--explain', 'UBAD']);
  assert.equal(plain.code, 0, plain.stdout + plain.stderr);
  assert.match(
    plain.stdout,
    /^ok {4}adapter\.slack\.allowed_users: everyone except UBAD \(rule 1 is an exclusion, so ids no rule names are admitted\); U12 is admitted because no rule names it; UBAD is refused by rule 1 !UBAD$/m,
  );
  assert.match(plain.stdout, /^ok {4}human\.approvers: besides the requester, only U1\*, except U13 \(ids no rule names are refused\); U12 is an approver by rule 1 U1\*; UBAD is not an approver because no rule names it$/m);
});
