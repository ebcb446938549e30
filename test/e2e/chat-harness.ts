/**
 * Helpers for end-to-end tests of `mithai chat`: a temp project with a test skill whose tools
 * record every side effect in a file, and a way to run the real CLI as a child process against
 * the local fake Anthropic API with stdin lines.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';

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

/** Make a project in a temp dir pointed at the fake model. */
export function makeProject(baseUrl: string, options: { timeoutSeconds?: number; extraConfig?: string } = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-e2e-'));
  mkdirSync(join(dir, 'skills', 'ops'), { recursive: true });
  writeFileSync(join(dir, 'skills', 'ops', 'SKILL.md'), '---\nname: ops\ndescription: Test ops skill\n---\nUse these tools for ops questions.\n');
  writeFileSync(join(dir, 'skills', 'ops', 'tools.ts'), OPS_TOOLS);
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
