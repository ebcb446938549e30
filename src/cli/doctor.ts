/**
 * `mithai doctor`: check a project without starting it. Prints one line per check
 * (ok / warn / FAIL) and exits 1 when any check failed.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { errorMessage } from '../errors.ts';
import { loadSkills } from '../skills/load-skills.ts';
import { SkillRegistry } from '../skills/skill-registry.ts';
import { validateOverrides } from '../human/policy.ts';
import { verifyAuditLog } from '../audit/verify-audit-log.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';

type Status = 'ok' | 'warn' | 'FAIL';
interface Check {
  status: Status;
  text: string;
}

export function registerDoctor(program: Command, exit: ExitCode): void {
  withConfigOption(program.command('doctor'))
    .description('check config, secrets, file modes, skills and the audit log')
    .action(async (options: { config: string }) => {
      const checks: Check[] = [];
      let loaded: LoadedConfig;
      try {
        loaded = loadFromOptions(options);
        checks.push({ status: 'ok', text: `config: ${loaded.path}` });
      } catch (err) {
        checks.push({ status: 'FAIL', text: `config: ${errorMessage(err)}` });
        print(checks);
        exit.code = 1;
        return;
      }
      checks.push(...secretChecks(loaded), ...envFileChecks(loaded.dir), ...accessChecks(loaded), ...(await skillChecks(loaded)));
      const audit = verifyAuditLog(join(loaded.config.memory.path, 'approvals.json'));
      checks.push(audit.ok ? { status: 'ok', text: `audit log: ${audit.records} records, chain intact` } : { status: 'FAIL', text: `audit log line ${audit.line}: ${audit.reason}` });
      print(checks);
      exit.code = checks.some((c) => c.status === 'FAIL') ? 1 : 0;
    });
}

function print(checks: Check[]): void {
  for (const c of checks) process.stdout.write(`${c.status.padEnd(4)}  ${c.text}\n`);
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
  if (slack.allowed_users.length === 0) out.push({ status: 'warn', text: 'adapter.slack.allowed_users is empty: everyone in the workspace can talk to the agent' });
  if (slack.allowed_channels.length === 0) out.push({ status: 'warn', text: 'adapter.slack.allowed_channels is empty: the agent answers in every channel it is in' });
  if (config.human.approvers.length === 0) out.push({ status: 'warn', text: 'human.approvers is empty: only the requester can approve their own calls' });
  return out;
}

function envFileChecks(dir: string): Check[] {
  const path = join(dir, '.env');
  if (!existsSync(path)) return [{ status: 'warn', text: `${path} does not exist (secrets must then come from the environment)` }];
  const out: Check[] = [];
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
  const { skills, errors } = await loadSkills({ paths: config.skills.paths, enabled: config.skills.enabled, defaultTimeoutMs: config.agent.tool_timeout_seconds * 1000, logger: pino({ level: 'silent' }) });
  const registry = new SkillRegistry(skills);
  const out: Check[] = [{ status: skills.length > 0 ? 'ok' : 'warn', text: `skills: ${skills.length} loaded, ${registry.tools().length} tools` }];
  for (const e of errors) out.push({ status: 'FAIL', text: `skill ${e.skillPath}: ${e.message}` });
  for (const m of validateOverrides(config.human.overrides, registry.tools())) out.push({ status: 'FAIL', text: m });
  return out;
}
