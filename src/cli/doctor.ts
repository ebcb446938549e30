/**
 * `mithai doctor`: check a project without starting it. Prints one line per check
 * (ok / warn / FAIL) and exits 1 when any check failed, or with `--strict` when any check warned
 * (so it can gate a deploy). `--explain ID` says how each pattern list treats that id.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { errorMessage } from '../errors.ts';
import { loadOptionsFromConfig, loadSkills } from '../skills/load-skills.ts';
import { SkillRegistry } from '../skills/skill-registry.ts';
import { validateOverrides } from '../human/policy.ts';
import { verifyAuditLog } from '../audit/verify-audit-log.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { duplicateEnvKeys } from '../config/env-file.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { allowlistChecks } from './doctor-allowlists.ts';
import { MIN_SECRET_LENGTH, secretsTooShortToRedact } from '../security/short-secrets.ts';
import type { Check } from './doctor-checks.ts';

interface DoctorOptions {
  config: string;
  strict?: boolean;
  explain: string[];
}

/** Where doctor prints; tests that run `main(['doctor', ...])` in-process point this elsewhere. */
export const doctorOutput = { write: (text: string): void => void process.stdout.write(text) };

export function registerDoctor(program: Command, exit: ExitCode): void {
  withConfigOption(program.command('doctor'))
    .description('check config, secrets, file modes, pattern lists, skills and the audit log')
    .option('--strict', 'exit non-zero when any check warns, not only when one fails (to gate a deploy)')
    .option('--explain <id>', 'say how allowed_users, allowed_channels and approvers treat this id (repeatable)', (id: string, all: string[]) => [...all, id], [] as string[])
    .action(async (options: DoctorOptions) => {
      const checks = await runChecks(options);
      for (const c of checks) doctorOutput.write(`${c.status.padEnd(4)}  ${c.text}\n`);
      const warnings = checks.filter((c) => c.status === 'warn').length;
      if (checks.some((c) => c.status === 'FAIL')) exit.code = 1;
      else if (options.strict && warnings > 0) {
        doctorOutput.write(`FAIL  --strict: ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
        exit.code = 1;
      } else exit.code = 0;
    });
}

/** Every check, in output order. A config that does not load is the only check. */
export async function runChecks(options: { config?: string; explain?: readonly string[] }): Promise<Check[]> {
  let loaded: LoadedConfig;
  try {
    loaded = loadFromOptions(options);
  } catch (err) {
    return [{ status: 'FAIL', text: `config: ${errorMessage(err)}` }];
  }
  const checks: Check[] = [{ status: 'ok', text: `config: ${loaded.path}` }];
  checks.push(...secretChecks(loaded), ...shortSecretChecks(loaded), ...allowlistChecks(loaded.config, options.explain), ...envFileChecks(loaded.dir), ...accessChecks(loaded), ...(await skillChecks(loaded)));
  const audit = verifyAuditLog(join(loaded.config.memory.path, 'approvals.json'));
  checks.push(audit.ok ? { status: 'ok', text: `audit log: ${audit.records} records, chain intact` } : { status: 'FAIL', text: `audit log line ${audit.line}: ${audit.reason}` });
  return checks;
}

/** Secrets too short to redact safely: named (never shown), one warning each. */
function shortSecretChecks(loaded: LoadedConfig): Check[] {
  return secretsTooShortToRedact(loaded).map((name) => ({
    status: 'warn' as const,
    text: `${name} is shorter than ${MIN_SECRET_LENGTH} characters, too short to redact safely from logs, cards and the audit: use a longer secret`,
  }));
}

function secretChecks({ config }: LoadedConfig): Check[] {
  const out: Check[] = [];
  const key = config.llm.anthropic.api_key;
  out.push(key ? { status: 'ok', text: 'llm.anthropic.api_key is set' } : { status: 'FAIL', text: 'llm.anthropic.api_key is not set; put ANTHROPIC_API_KEY=... in .env' });
  const slack = config.adapter.slack;
  if (!slack.bot_token && !slack.app_token) {
    out.push({ status: 'warn', text: 'Slack tokens are not set: `mithai chat` works, `mithai run` will not (set SLACK_BOT_TOKEN and SLACK_APP_TOKEN in .env)' });
  } else {
    out.push(slack.bot_token?.startsWith('xoxb-') ? { status: 'ok', text: 'adapter.slack.bot_token looks like a bot token (xoxb-)' } : { status: 'FAIL', text: 'adapter.slack.bot_token must be a bot token starting with xoxb-' });
    out.push(slack.app_token?.startsWith('xapp-') ? { status: 'ok', text: 'adapter.slack.app_token looks like an app-level token (xapp-)' } : { status: 'FAIL', text: 'adapter.slack.app_token must be an app-level token starting with xapp- (with connections:write)' });
  }
  return out;
}

function envFileChecks(dir: string): Check[] {
  const path = join(dir, '.env');
  if (!existsSync(path)) return [{ status: 'warn', text: `${path} does not exist (secrets must then come from the environment)` }];
  const out: Check[] = [];
  for (const duplicate of duplicateEnvKeys(readFileSync(path, 'utf8'))) {
    out.push({ status: 'warn', text: `.env sets ${duplicate.name} on lines ${duplicate.lines.join(', ')}: only the last one is used; remove the others` });
  }
  const mode = statSync(path).mode & 0o777;
  out.push(mode & 0o077 ? { status: 'warn', text: `${path} is readable by group/others (mode ${mode.toString(8)}); run chmod 600 ${path}` } : { status: 'ok', text: `.env mode ${mode.toString(8)}` });
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', '.env'], { cwd: dir, stdio: 'ignore' });
    out.push({ status: 'warn', text: `.env is tracked by git: remove it with git rm --cached .env and rotate the secrets in it` });
  } catch {
    // Not tracked, or not a git repository: both fine.
  }
  return out;
}

function accessChecks({ config }: LoadedConfig): Check[] {
  const out: Check[] = [];
  for (const [label, path] of [['memory.path', config.memory.path], ['state.path', config.state.path]] as const) {
    if (!existsSync(path)) {
      out.push({ status: 'ok', text: `${label}: ${path} will be created on first run` });
      continue;
    }
    try {
      accessSync(path, constants.W_OK);
      out.push({ status: 'ok', text: `${label}: ${path} is writable` });
    } catch {
      out.push({ status: 'FAIL', text: `${label}: ${path} is not writable` });
    }
  }
  return out;
}

async function skillChecks({ config }: LoadedConfig): Promise<Check[]> {
  const { skills, errors } = await loadSkills(loadOptionsFromConfig(config, pino({ level: 'silent' })));
  const registry = new SkillRegistry(skills);
  const out: Check[] = [{ status: skills.length > 0 ? 'ok' : 'warn', text: `skills: ${skills.length} loaded, ${registry.tools().length} tools` }];
  for (const e of errors) out.push({ status: 'FAIL', text: `skill ${e.skillPath}: ${e.message}` });
  for (const m of validateOverrides(config.human.overrides, registry.tools())) out.push({ status: 'FAIL', text: m });
  return out;
}
