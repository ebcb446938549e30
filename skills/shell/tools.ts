/**
 * The built-in `shell` skill: runs commands an operator allowed, on the mithai host, without a
 * shell. Enable it with `skills.builtin: [shell]` and list the commands under
 * `skills.config.shell` (see config.ts); with none listed, every command is refused.
 *
 * A call goes through three gates, each failing closed:
 * 1. **Input**: `argv` is checked by the runtime's command guard (`checkArgv`: shell syntax,
 *    invisible characters, look-alikes, privilege programs, inline code, command-running
 *    options) while the input is validated, so an argv it refuses never reaches an approver.
 * 2. **Level** (`resolveHuman`): a call that starts with a `read_only_commands` prefix runs at
 *    once; anything else, including a call that will be refused, waits for a typed confirmation.
 * 3. **Handler**: the guard again, then the allowlist (command-allowlist.ts); only then does
 *    `runArgv` execute the allowed binary by absolute path, in its own process group, with a
 *    time limit and an output cap, in an environment without credentials or code-loading
 *    variables and with `PATH` set to the skill's own path.
 *
 * Output is marked untrusted (logs and files carry text anyone may have written), so after a
 * command ran the session is tainted and the runtime asks for approval of calls that would
 * otherwise have run at once, this skill's read-only commands included.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { ARGV_LIMITS, checkArgv, commandEnv, defineSkill, KILL_GRACE_MS, programName, resolveProgram, runArgv, z } from 'mithai';
import type { Level } from 'mithai';
import { allowCommand } from './command-allowlist.ts';
import { commandResult } from './command-result.ts';
import { MAX_TIMEOUT_SECONDS, settings } from './config.ts';
import type { ShellConfig } from './config.ts';
import { describeAllowlist } from './describe-allowlist.ts';

/** A confirmation phrase longer than this is replaced by the program name (see {@link confirmPhrase}). */
export const MAX_PHRASE_CHARS = 100;

const argv = z
  .array(z.string().max(ARGV_LIMITS.maxArgumentLength))
  .min(1)
  .max(ARGV_LIMITS.maxArguments)
  .describe('The program and its arguments, one element each, e.g. ["journalctl", "-u", "nginx", "--since", "10 min ago"]. No shell runs: no pipes, redirections, ;, && or $(...).')
  .superRefine((value, issues) => {
    const refusal = checkArgv(value);
    if (refusal) issues.addIssue({ code: 'custom', message: `refused (${refusal.rule}): ${refusal.message}` });
  });

export default defineSkill({
  tools: {
    list_commands: {
      description: 'List the commands this installation allows, and which of them run without asking.',
      human: 'auto',
      readOnly: true,
      input: z.object({}),
      handle: (_input, ctx) => describeAllowlist(settings(ctx.config)),
    },

    run_command: {
      description:
        'Run one allowed command on the mithai host, given as an argv array (no shell). Read-only commands run at once; others wait for a person to type a confirmation. ' +
        'Returns the exit code, the duration and the output (cut at a size limit); a non-zero exit code is an ordinary result.',
      human: 'dynamic',
      untrustedOutput: true,
      // The skill's own timeout_seconds (at most MAX_TIMEOUT_SECONDS) is the limit that applies;
      // this one only stops a call whose child somehow outlives it.
      timeoutSeconds: MAX_TIMEOUT_SECONDS + KILL_GRACE_MS / 1000 + 5,
      input: z.strictObject({ argv }),
      confirmPhrase: ({ argv }) => confirmPhrase(argv),
      handle: async ({ argv }, ctx) => {
        const config = settings(ctx.config);
        const call = allowCommand(argv, config);
        if (!isFolder(config.cwd)) throw new Error(`skills.config.shell.cwd: ${config.cwd} is not a folder; an operator must fix config.yaml`);
        ctx.logger.info({ argv: call.argv, entry: call.entry.key, read_only: call.readOnly }, 'shell.command_started');
        const ran = await runArgv(call.argv, {
          env: commandEnv(ctx.childEnv(), config.searchPath),
          timeoutMs: config.timeoutMs,
          maxOutputBytes: config.maxOutputBytes,
          signal: ctx.signal,
          cwd: config.cwd,
        });
        return commandResult(call.argv, ran, config.timeoutMs);
      },
    },
  },

  // Read-only and allowed: at once. Anything else, including what handle will refuse and any
  // input or setting that cannot be read: a typed confirmation. Never auto by mistake.
  resolveHuman: (tool, input, ctx): Level | null => {
    if (tool !== 'run_command') return 'confirm';
    try {
      const value = (input as { argv?: unknown } | null)?.argv;
      if (!Array.isArray(value) || !value.every((a): a is string => typeof a === 'string')) return 'confirm';
      return allowCommand(value, settings(ctx.config)).readOnly ? null : 'confirm';
    } catch {
      return 'confirm';
    }
  },

  // Say at start-up what is wrong with the settings or which allowed program is missing, rather
  // than at the first call.
  startup: (ctx) => {
    let config: ShellConfig;
    try {
      config = settings(ctx.config);
    } catch (err) {
      ctx.logger.error({ err: (err as Error).message }, 'shell.config_invalid');
      return;
    }
    if (config.allowed.length === 0) ctx.logger.warn('shell.no_command_allowed');
    for (const entry of config.allowed) {
      const found = resolveProgram(entry.prefix[0]!, { searchPath: config.searchPath, cwd: config.cwd });
      if (!found.ok) ctx.logger.warn({ entry: entry.key, reason: found.reason }, 'shell.program_not_found');
    }
  },
});

/**
 * The phrase a confirm approver types. It must name this argv and no other:
 * - the argv joined with spaces, when that reads back as exactly this argv (no element is
 *   empty or holds whitespace) and is at most {@link MAX_PHRASE_CHARS} long: what they type is
 *   what runs;
 * - otherwise the program's name and a code made from the whole argv (`rm 3fa2c1d0`), shown on
 *   the card next to the argv, so two argvs that read alike (`"old files"` vs `old files`, or
 *   two long paths) never share a phrase.
 */
export function confirmPhrase(argv: readonly string[]): string {
  const joined = argv.join(' ');
  const readsBack = argv.every((arg) => arg !== '' && !/\s/.test(arg));
  if (readsBack && joined.length <= MAX_PHRASE_CHARS) return joined;
  const code = createHash('sha256').update(JSON.stringify(argv)).digest('hex').slice(0, 8);
  return `${programName(argv[0] ?? 'command')} ${code}`;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
