/**
 * A mithai project for the bench: config.yaml pointing at the local fakes, .env with their
 * tokens, memory/MEMORY.md, the `ops` skill with the bench's four tools (./../lib/ops.ts; each
 * handler calls the tool hook first), and optionally more generated skills of three `auto`
 * tools each (the start-up figure asks for 10 skills in all).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_API_KEY } from '../../test/fakes/anthropic/fake-anthropic.ts';
import type { FakeSlack } from '../../test/fakes/slack/fake-slack.ts';
import { BOT_NAME, OPS_TOOLS, PERSONA, toolResultText } from '../lib/ops.ts';
import { HOOK_KEY } from '../lib/tool-hooks.ts';

export interface MithaiProjectOptions {
  slack: FakeSlack;
  modelUrl: string;
  /** Skills in all, the `ops` skill included (default 1). */
  skills?: number;
  /** human.timeout_seconds (default 3600: nothing expires during a bench). */
  timeoutSeconds?: number;
  logLevel?: string;
}

function opsSkillSource(): string {
  const sample = toolResultText('TOOL', 'SERVICE');
  const result = `${JSON.stringify(sample).replace('TOOL', '" + tool + "').replace('SERVICE', '" + service + "')}`;
  const tools = OPS_TOOLS.map((t) => `    ${t.name}: defineTool({ description: ${JSON.stringify(t.description)}, human: '${t.human}',${t.human === 'auto' ? ' readOnly: true,' : ''}
      input: z.object({ service: z.string() }),
      handle: async (input, ctx) => run('${t.name}', input, ctx) }),`).join('\n');
  return `import { defineSkill, defineTool, z } from 'mithai';
const run = async (tool, input, ctx) => {
  globalThis[${JSON.stringify(HOOK_KEY)}]?.toolStarted(tool, input, ctx.thread);
  const service = input.service;
  return ${result};
};
export default defineSkill({
  tools: {
${tools}
  },
});
`;
}

function genericSkillSource(n: number): string {
  const tools = ['list', 'describe', 'logs'].map((verb) => `    ${verb}: defineTool({ description: ${JSON.stringify(`${verb} things of area ${n}`)}, human: 'auto', readOnly: true,
      input: z.object({ name: z.string(), limit: z.number().int().optional() }),
      handle: async ({ name }) => ${JSON.stringify(`${verb} `)} + name + ': nothing to report' }),`).join('\n');
  return `import { defineSkill, defineTool, z } from 'mithai';
export default defineSkill({
  tools: {
${tools}
  },
});
`;
}

/** Write the project into `dir`; returns the config path. */
export function writeMithaiProject(dir: string, o: MithaiProjectOptions): string {
  const skill = (name: string, description: string, body: string, source: string): void => {
    mkdirSync(join(dir, 'skills', name), { recursive: true });
    writeFileSync(join(dir, 'skills', name, 'SKILL.md'), `---\nname: ${name}\ndescription: ${description}\n---\n${body}\n`);
    writeFileSync(join(dir, 'skills', name, 'tools.ts'), source);
  };
  skill('ops', 'Service operations', 'Use these tools for questions about services.', opsSkillSource());
  for (let i = 2; i <= (o.skills ?? 1); i++) {
    const name = `area${String(i).padStart(2, '0')}`;
    skill(name, `Tools for area ${i}`, `Use these tools for questions about area ${i}.`, genericSkillSource(i));
  }
  mkdirSync(join(dir, 'memory'), { recursive: true });
  writeFileSync(join(dir, 'memory', 'MEMORY.md'), '# Memory\n');
  const env = { SLACK_BOT_TOKEN: o.slack.config.botToken, SLACK_APP_TOKEN: o.slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, [
    `bot: { name: ${BOT_NAME}, persona: ${JSON.stringify(PERSONA)} }`,
    'adapter:',
    '  slack:',
    '    bot_token: ${SLACK_BOT_TOKEN}',
    '    app_token: ${SLACK_APP_TOKEN}',
    `    api_url: ${o.slack.apiUrl}`,
    'llm:',
    '  model: claude-test',
    '  anthropic:',
    '    api_key: ${ANTHROPIC_API_KEY}',
    `    base_url: ${o.modelUrl}`,
    '    max_retries: 0',
    'human:',
    `  timeout_seconds: ${o.timeoutSeconds ?? 3600}`,
    `logging: { level: ${o.logLevel ?? 'info'} }`,
    '',
  ].join('\n'));
  return configPath;
}

/** The environment a project's config is loaded with (what its .env holds). */
export function projectEnv(slack: FakeSlack): Record<string, string> {
  return { SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
}
