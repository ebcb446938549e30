/**
 * Builders for skill folders in temporary directories outside the repository (so nothing
 * resolves through the repo's node_modules by accident), and small shared test helpers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import type { Logger } from 'pino';

/** A fresh temporary folder, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'mithai-skills-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write `files` (relative path → content) under `root`, creating folders as needed. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

/** A SKILL.md with front matter. */
export function skillMd(name: string | undefined, description = `The ${name ?? 'unnamed'} skill.`, body = `Use the ${name ?? 'unnamed'} tools.`): string {
  const lines = ['---'];
  if (name !== undefined) lines.push(`name: ${name}`);
  lines.push(`description: ${description}`, '---', body, '');
  return lines.join('\n');
}

/** A logger that writes nothing to stdout and keeps each record for assertions. */
export function recordingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}

/** A logger that drops everything. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** A TypeScript skill in the defineSkill shape that imports from 'mithai'. */
export const K8S_TOOLS_TS = `import { defineSkill, z } from 'mithai';

let calls = 0;
export function callCount(): number { return calls; }

export default defineSkill({
  tools: {
    get_pods: {
      description: 'List pods',
      human: 'auto',
      readOnly: true,
      input: z.object({ namespace: z.string().describe('namespace to list'), limit: z.number().int().default(10) }),
      handle: async ({ namespace, limit }) => { calls += 1; return { namespace, limit, pods: [] as string[] }; },
    },
    delete_namespace: {
      description: 'Delete a namespace. Irreversible.',
      human: 'confirm',
      timeoutSeconds: 5,
      input: z.object({ name: z.string() }),
      confirmPhrase: (i) => 'delete ' + i.name,
      handle: async (i) => 'deleted ' + i.name,
    },
  },
});
`;

/** A plain-JavaScript skill in the Python mithai shape. */
export const PY_SHAPE_TOOLS_JS = `export const TOOLS = [
  { name: 'run_command', description: 'Run a command', human: 'dynamic',
    input_schema: { type: 'object', properties: { command: { type: 'string' }, cwd: { type: 'string' } }, required: ['command'] } },
  { name: 'uptime', description: 'Show uptime', human: null,
    input_schema: { type: 'object', properties: {} } },
];
export const calls = [];
export async function handle(name, input, ctx) {
  calls.push(name);
  return name === 'uptime' ? 'up 3 days' : 'ran ' + input.command + ' for ' + ctx.user;
}
export function resolve_human(name, input) { return input.command === 'uptime' ? null : 'approve'; }
export async function startup(ctx) { ctx.state.set('started', true); }
`;
