/**
 * `mithai skill create|list|validate`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { loadSkills } from '../skills/load-skills.ts';
import { scaffoldSkill } from '../skills/scaffold-skill.ts';
import { validateOverrides } from '../human/policy.ts';
import { SkillRegistry } from '../skills/skill-registry.ts';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';

export function registerSkill(program: Command, exit: ExitCode): void {
  const skill = program.command('skill').description('create, list and validate skills');

  withConfigOption(skill.command('create'))
    .argument('<name>', 'skill name (lowercase letters, digits, - and _)')
    .option('--dir <dir>', 'folder that holds skill folders (default: the first of skills.paths)')
    .option('-f, --force', 'overwrite an existing skill folder')
    .description('scaffold a new skill: SKILL.md and tools.ts')
    .action((name: string, options: { config: string; dir?: string; force?: boolean }) => {
      const dir = options.dir ? resolve(options.dir) : firstSkillsPath(options);
      const written = scaffoldSkill(dir, name, { force: options.force });
      process.stdout.write(`Created skill ${name}:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
      exit.code = 0;
    });

  withConfigOption(skill.command('list'))
    .description('list skills, their tools and human levels')
    .action(async (options: { config: string }) => {
      const { registry, errors } = await load(options);
      const overrides = loadFromOptions(options).config.human.overrides;
      for (const s of registry.skills()) {
        process.stdout.write(`${s.name}  ${s.description}\n`);
        for (const t of s.tools) {
          const level = t.declared ?? 'approve (default)';
          const override = overrides[t.name] ? `  override: ${overrides[t.name]}` : '';
          process.stdout.write(`  ${t.name.padEnd(36)} ${level}${t.readOnly ? ', read-only' : ''}${override}\n`);
        }
      }
      for (const e of errors) process.stderr.write(`mithai: ${e.skillPath}: ${e.message}\n`);
      exit.code = errors.length > 0 ? 1 : 0;
    });

  withConfigOption(skill.command('validate'))
    .argument('[name]', 'only this skill')
    .description('load every skill (or one) and check tools, schemas, levels and overrides')
    .action(async (name: string | undefined, options: { config: string }) => {
      const { registry, errors } = await load(options);
      const overrides = loadFromOptions(options).config.human.overrides;
      const skills = registry.skills().filter((s) => !name || s.name === name);
      if (name && skills.length === 0 && errors.length === 0) throw new ConfigError(`no skill named "${name}" in skills.paths`);
      const problems = [
        ...errors.map((e) => `${e.skillPath}: ${e.message}`),
        ...(name ? [] : validateOverrides(overrides, registry.tools())),
      ];
      for (const s of skills) process.stdout.write(`ok  ${s.name} (${s.tools.length} tools)\n`);
      for (const p of problems) process.stderr.write(`mithai: ${p}\n`);
      exit.code = problems.length > 0 ? 1 : 0;
    });
}

function firstSkillsPath(options: { config: string }): string {
  const paths = loadFromOptions(options).config.skills.paths;
  if (paths.length === 0) throw new ConfigError('skills.paths is empty; pass --dir');
  return paths[0]!;
}

async function load(options: { config: string }) {
  const { config } = loadFromOptions(options);
  const { skills, errors } = await loadSkills({
    paths: config.skills.paths,
    enabled: config.skills.enabled,
    defaultTimeoutMs: config.agent.tool_timeout_seconds * 1000,
    logger: pino({ level: 'silent' }),
  });
  return { registry: new SkillRegistry(skills), errors };
}
