/**
 * Helpers for end-to-end tests of `mithai chat`: a temp project with a test skill whose tools
 * record every side effect in a file, a way to run the real CLI as a child process against
 * the local fake Anthropic API with stdin lines, and a live chat (startChat) that a test types
 * into while it watches the output.
 */
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_API_KEY, FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import type { ScriptStep } from '../fakes/anthropic/script.ts';

export const BIN = fileURLToPath(new URL('../../bin/mithai.js', import.meta.url));

/** The test skill: every handler appends one line to effects.log, so tests count side effects. */
const OPS_TOOLS = `
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSkill, defineTool, z } from 'mithai';

const effect = (line) => appendFileSync(join(process.env.MITHAI_TEST_EFFECTS_DIR, 'effects.log'), line + '\\n');

export default defineSkill({
  tools: {
    status: defineTool({ description: 'Show service status', human: 'auto', readOnly: true,
      input: z.object({}), handle: async () => { effect('status'); return 'all green'; } }),
    restart: defineTool({ description: 'Restart a service', human: 'approve',
      input: z.object({ service: z.string() }), handle: async ({ service }) => { effect('restart ' + service); return 'restarted ' + service; } }),
    drop_db: defineTool({ description: 'Drop a database. Irreversible.', human: 'confirm',
      input: z.object({ name: z.string() }), confirmPhrase: (i) => i.name,
      handle: async ({ name }) => { effect('drop ' + name); return 'dropped ' + name; } }),
    boom: defineTool({ description: 'Always fails', human: 'auto',
      input: z.object({}), handle: async () => { effect('boom'); throw new Error('kaput'); } }),
  },
});
`;

export interface Project {
  dir: string;
  configPath: string;
  effects(): string[];
  auditRecords(): Array<Record<string, unknown>>;
  cleanup(): void;
}

/** Options for {@link makeProject}. */
export interface ProjectOptions {
  timeoutSeconds?: number;
  /** Lines appended to config.yaml (after `human:`'s `timeout_seconds`, so indented lines go under `human`). */
  extraConfig?: string;
  /** Replaces the ops skill's tools.ts. */
  tools?: string;
}

/** Make a project in a temp dir pointed at the fake model. */
export function makeProject(baseUrl: string, options: ProjectOptions = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-e2e-'));
  mkdirSync(join(dir, 'skills', 'ops'), { recursive: true });
  writeFileSync(join(dir, 'skills', 'ops', 'SKILL.md'), '---\nname: ops\ndescription: Test ops skill\n---\nUse these tools for ops questions.\n');
  writeFileSync(join(dir, 'skills', 'ops', 'tools.ts'), options.tools ?? OPS_TOOLS);
  mkdirSync(join(dir, 'memory'));
  writeFileSync(join(dir, 'memory', 'MEMORY.md'), '# Memory\n- The database is called orders.\n');
  writeFileSync(join(dir, '.env'), `ANTHROPIC_API_KEY=${FAKE_API_KEY}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'bot: { name: testbot }',
      'llm:',
      '  model: claude-test',
      '  anthropic:',
      '    api_key: ${ANTHROPIC_API_KEY}',
      `    base_url: ${baseUrl}`,
      '    max_retries: 0',
      'human:',
      `  timeout_seconds: ${options.timeoutSeconds ?? 30}`,
      options.extraConfig ?? '',
    ].join('\n'),
  );
  const configPath = join(dir, 'config.yaml');
  return {
    dir,
    configPath,
    effects: () => (existsSync(join(dir, 'effects.log')) ? readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean) : []),
    auditRecords: () => {
      const file = join(dir, 'memory', 'approvals.json');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real `mithai` CLI with args, feeding `stdin` and closing it. */
export function runCli(
  args: string[],
  options: { cwd?: string; stdin?: string; env?: Record<string, string | undefined>; effectsDir?: string; holdStdinUntil?: RegExp; thenWrite?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env, MITHAI_TEST_EFFECTS_DIR: options.effectsDir ?? options.cwd };
    // The developer's shell must not steer the child: these would override our test config.
    delete env.ANTHROPIC_API_KEY;
    delete env.ANTHROPIC_BASE_URL;
    if (options.env?.ANTHROPIC_API_KEY) env.ANTHROPIC_API_KEY = options.env.ANTHROPIC_API_KEY;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let held = Boolean(options.holdStdinUntil);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Keep stdin open (a person still at the keyboard) until the output shows what we wait for.
      if (held && options.holdStdinUntil!.test(stdout)) {
        held = false;
        child.stdin.end(options.thenWrite ?? '');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.holdStdinUntil) child.stdin.write(options.stdin ?? '');
    else child.stdin.end(options.stdin ?? '');
  });
}

/** Run `mithai chat` in a project with stdin lines. */
export function runChat(project: Project, lines: string[], extraArgs: string[] = [], hold?: { until: RegExp; thenWrite: string }): Promise<CliResult> {
  return runCli(['chat', '--config', project.configPath, ...extraArgs], {
    cwd: project.dir,
    stdin: lines.map((l) => `${l}\n`).join(''),
    holdStdinUntil: hold?.until,
    thenWrite: hold?.thenWrite,
  });
}

/** A `mithai chat` child process a test types into while it watches the output. */
export interface LiveChat {
  project: Project;
  fake: FakeAnthropic;
  /** Everything printed on stdout / stderr so far. */
  out(): string;
  err(): string;
  write(text: string): void;
  /** Close stdin (the end of piped input). */
  end(): void;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code once the process has exited. */
  closed: Promise<number | null>;
  /** Wait until `check()` holds, polling every 20 ms; fails with `what` and the output after `ms`. */
  until(what: string, check: () => boolean, ms?: number): Promise<void>;
  /** The id of the one pending approval ('' when none). */
  pendingId(): string;
}

/** Start the fake model with `script` and a project pointed at it; both go after the test. */
export async function projectWithFakeModel(t: { after(fn: () => unknown): void }, script: ScriptStep[], options?: ProjectOptions): Promise<{ fake: FakeAnthropic; project: Project }> {
  const fake = await FakeAnthropic.start(script);
  const project = makeProject(fake.url, options);
  t.after(async () => {
    await fake.stop();
    project.cleanup();
  });
  return { fake, project };
}

/**
 * Start the fake model with `script`, a project pointed at it, and `mithai chat --session ops-1`
 * in it (plus `args`). Everything is stopped and removed after the test.
 */
export async function startChat(t: TestContext, script: ScriptStep[], options: { project?: ProjectOptions; args?: string[]; env?: Record<string, string> } = {}): Promise<LiveChat> {
  const fake = await FakeAnthropic.start(script);
  const project = makeProject(fake.url, { timeoutSeconds: 300, ...options.project });
  const env: Record<string, string | undefined> = { ...process.env, ...options.env, MITHAI_TEST_EFFECTS_DIR: project.dir };
  delete env.ANTHROPIC_API_KEY;
  delete env.ANTHROPIC_BASE_URL;
  const chat = spawn(process.execPath, [BIN, 'chat', '--config', project.configPath, '--session', 'ops-1', ...(options.args ?? [])], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  chat.stdout.on('data', (d: Buffer) => (out += d.toString()));
  chat.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((resolve) => chat.once('close', (code) => resolve(code)));
  t.after(async () => {
    if (chat.exitCode === null && chat.signalCode === null) chat.kill('SIGKILL');
    await closed;
    await fake.stop();
    project.cleanup();
  });
  return {
    project,
    fake,
    out: () => out,
    err: () => err,
    write: (text) => chat.stdin.write(text),
    end: () => chat.stdin.end(),
    kill: (signal) => chat.kill(signal),
    closed,
    until: async (what, check, ms = 15_000) => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what} (chat printed: ${out}${err ? `\n--- stderr ---\n${err}` : ''})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    pendingId: () => pendingApprovalId(project),
  };
}

/** The id of the one pending approval in a project's state database ('' when none). */
export function pendingApprovalId(project: Project): string {
  const db = new Database(join(project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  try {
    return db.prepare<[], { id: string }>("SELECT id FROM approvals WHERE state = 'pending'").get()?.id ?? '';
  } finally {
    db.close();
  }
}
