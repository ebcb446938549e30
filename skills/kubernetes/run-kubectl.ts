/**
 * One kubectl run: the checked argv through `runArgv` (no shell, own process group, killed on
 * the time limit or when the call is cancelled), with the credential-free `ctx.childEnv()` less
 * its code-loading variables, and output capped at `max_output_bytes`. A failure becomes an Error with a short, cleaned message.
 */
import { isCodeLoadingVariable, runArgv, SpawnError, type ToolContext } from 'mithai';
import { checkKubectlArgs, kubectlArgs, type Flag, type Verb } from './argv.ts';
import type { KubernetesConfig } from './config.ts';
import type { Target } from './target.ts';
import { cleanText, tailLines } from './text.ts';

/** What kubectl printed on stdout, and how many bytes beyond `max_output_bytes` were dropped. */
export interface KubectlOutput {
  readonly stdout: string;
  readonly droppedBytes: number;
}

/** Characters of kubectl's stderr an error message keeps. */
const STDERR_CHARS = 1_000;

/** The part of the tool context a run needs. */
export type RunContext = Pick<ToolContext, 'childEnv' | 'signal'>;

/**
 * Build the argv for `verb` against `target` (adding `--request-timeout`) and run it.
 * @throws Error as {@link runKubectl} does.
 */
export function kubectl(config: KubernetesConfig, ctx: RunContext, verb: Verb, target: Target, flags: readonly Flag[], positionals: readonly string[]): Promise<KubectlOutput> {
  const requestTimeout: Flag = ['request-timeout', `${Math.max(1, Math.ceil(config.timeoutMs / 1000))}s`];
  return runKubectl(config, kubectlArgs(verb, target, [requestTimeout, ...flags], positionals), ctx);
}

/**
 * Run kubectl with `args` (from `kubectlArgs`), after checking them once more.
 * @throws Error when kubectl cannot start, exits non-zero, times out or is cancelled.
 */
export async function runKubectl(config: KubernetesConfig, args: readonly string[], ctx: RunContext): Promise<KubectlOutput> {
  checkKubectlArgs(args);
  const verb = args.slice(0, args[0] === 'rollout' || args[0] === 'set' || args[0] === 'top' ? 2 : 1).join(' ');
  let result;
  try {
    result = await runArgv([config.kubectl, ...args], {
      env: kubectlEnv(ctx.childEnv()),
      timeoutMs: config.timeoutMs,
      maxOutputBytes: config.maxOutputBytes,
      signal: ctx.signal,
    });
  } catch (err) {
    if (err instanceof SpawnError) throw new Error(`${err.message}; set skills.config.kubernetes.kubectl to the kubectl program`, { cause: err });
    throw err;
  }
  if (result.timedOut) throw new Error(`kubectl ${verb} did not finish within ${config.timeoutMs / 1000} s and was stopped; its outcome is unknown`);
  if (result.aborted) throw new Error(`kubectl ${verb} was stopped: the call was cancelled; its outcome is unknown`);
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `ended by ${result.signal ?? 'a signal'}` : `exit code ${result.exitCode}`;
    const stderr = tailLines(cleanText(result.stderr.text).trim(), 10, STDERR_CHARS).text;
    throw new Error(`kubectl ${verb} failed (${how})${stderr === '' ? '' : `: ${stderr}`}`);
  }
  return { stdout: result.stdout.text, droppedBytes: result.stdout.droppedBytes };
}

/**
 * kubectl's environment: `ctx.childEnv()` (no credentials) without the variables that make a
 * program load or run other code (`LD_PRELOAD`, `NODE_OPTIONS`, `PYTHONPATH`, `BASH_ENV`, …;
 * `isCodeLoadingVariable`), which would reach kubectl and the exec credential plugins it starts.
 * `PATH` stays as it is (kubectl and its plugins are looked up on it), and so do `KUBECONFIG`
 * and `HOME`.
 */
function kubectlEnv(base: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(base).filter(([name]) => !isCodeLoadingVariable(name)));
}
