/**
 * `mithai skill create|list|validate|run` (run: skill-run.ts).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { loadOptionsFromConfig, loadSkills } from '../skills/load-skills.ts';
import { scaffoldSkill } from '../skills/scaffold-skill.ts';
import { validateOverrides } from '../human/policy.ts';
import { SkillRegistry } from '../skills/skill-registry.ts';
import { BUILTIN_SKILL_NAMES } from '../skills/builtin-skills.ts';
import { typecheckSkills } from '../skills/skill-typecheck.ts';
import type { LoadedSkill } from '../skills/types.ts';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { printable } from './printable.ts';
import { registerSkillRun } from './skill-run.ts';

export function registerSkill(program: Command, exit: ExitCode): void {
  const skill = program.command('skill').description('create, list, validate and run skills');

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
      const { config } = loadFromOptions(options);
      const overrides = config.human.overrides;
      const print = (s: LoadedSkill): void => {
        const note = s.overridesBuiltin ? '  (replaces the built-in)' : '';
        process.stdout.write(`${s.name}  ${s.description}${note}\n`);
        for (const t of s.tools) {
          const level = t.declared ?? 'approve (default)';
          const override = overrides[t.name] ? `  override: ${overrides[t.name]}` : '';
          process.stdout.write(`  ${t.name.padEnd(36)} ${level}${t.readOnly ? ', read-only' : ''}${override}\n`);
        }
      };
      const project = registry.skills().filter((s) => s.origin === 'project');
      const builtins = registry.skills().filter((s) => s.origin === 'builtin');
      process.stdout.write(project.length > 0 ? 'Project skills (skills.paths):\n' : 'Project skills (skills.paths): none\n');
      for (const s of project) print(s);
      const off = BUILTIN_SKILL_NAMES.filter((n) => !config.skills.builtin.includes(n));
      process.stdout.write(`\nBuilt-in skills (skills.builtin):${builtins.length === 0 ? ' none enabled' : ''}\n`);
      for (const s of builtins) print(s);
      if (off.length > 0) process.stdout.write(`Not enabled: ${off.join(', ')} (add them to skills.builtin; docs/skills.md)\n`);
      for (const e of errors) process.stderr.write(`mithai: ${e.skillPath}: ${printable(e.message)}\n`);
      exit.code = errors.length > 0 ? 1 : 0;
    });

  registerSkillRun(skill, exit);

  withConfigOption(skill.command('validate'))
    .argument('[name]', 'only this skill')
    .description('load every skill (or one) and check tools, schemas, levels and overrides')
    .action(async (name: string | undefined, options: { config: string }) => {
      const { registry, errors } = await load(options);
      const overrides = loadFromOptions(options).config.human.overrides;
      const skills = registry.skills().filter((s) => !name || s.name === name);
      if (name && skills.length === 0 && errors.length === 0) throw new ConfigError(`no skill named "${name}" in skills.paths or skills.builtin`);
      const problems: string[] = [
        ...errors.map((e) => `${e.skillPath}: ${e.message}`),
        ...(name ? [] : validateOverrides(overrides, registry.tools())),
      ];
      const typeErrors = typecheck(skills, options);
      problems.push(...typeErrors);
      const failed = new Set(typeErrors.map((p) => p.split(':')[0]));
      for (const s of skills) if (s.modulePath === undefined || !failed.has(s.modulePath)) process.stdout.write(`ok  ${s.name} (${s.tools.length} tools)\n`);
      for (const p of problems) process.stderr.write(`mithai: ${printable(p)}\n`);
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
  const { skills, errors } = await loadSkills(loadOptionsFromConfig(config, pino({ level: 'silent' })));
  return { registry: new SkillRegistry(skills), errors };
}

/** Type errors of the project's TypeScript skills (built-ins are checked by their own tests), as `file:line:col message`. */
function typecheck(skills: readonly LoadedSkill[], options: { config: string }): string[] {
  const files = skills.filter((s) => s.origin === 'project' && s.modulePath?.endsWith('.ts')).map((s) => s.modulePath!);
  if (files.length === 0) return [];
  const result = typecheckSkills(files, dirname(resolve(options.config)));
  if (!result.available) {
    process.stdout.write('Type check skipped: the typescript package is not installed (npm install --save-dev typescript).\n');
    return [];
  }
  return result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`);
}
