/**
 * kubectl argv, built one way only: `<verb…> --context=<c> [--namespace=<n>] <flags…> -- <args…>`.
 *
 * The pin comes first after the verb, flags are always `--name=value` (never a separate value
 * kubectl could read as a flag of its own), and `--` ends the flags, so a positional argument
 * can never be read as an option even if a validator let one through. {@link checkKubectlArgs}
 * then checks the finished argv against an allowlist before it runs: one last fail-closed gate
 * against `--kubeconfig`, `--server`, `--token`, `--as`, `--all-namespaces` and the like.
 */
import type { Target } from './target.ts';

/** The kubectl commands the skill runs. */
export const VERBS = [
  'get', 'describe', 'logs', 'top pod', 'top node', 'rollout status', 'rollout restart', 'scale', 'set image',
  'cordon', 'uncordon', 'drain', 'delete',
] as const;

export type Verb = (typeof VERBS)[number];

/** A flag the skill may pass, always in `--name=value` form; the value is checked too. */
const ALLOWED_FLAGS: ReadonlyMap<string, RegExp> = new Map([
  ['context', /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/],
  ['namespace', /^[a-z0-9][-a-z0-9]*$/],
  ['request-timeout', /^[0-9]+s$/],
  ['output', /^json$/],
  ['selector', /^[!A-Za-z0-9][-A-Za-z0-9_./=!,]*$/],
  ['field-selector', /^[A-Za-z.]+=[A-Za-z0-9][-A-Za-z0-9.]*(?:,[A-Za-z.]+=[A-Za-z0-9][-A-Za-z0-9.]*)*$/],
  ['tail', /^[0-9]+$/],
  ['limit-bytes', /^[0-9]+$/],
  ['since', /^[0-9]+[smh]$/],
  ['container', /^[a-z0-9][-a-z0-9]*$/],
  ['previous', /^(?:true|false)$/],
  ['watch', /^false$/],
  ['wait', /^false$/],
  ['replicas', /^[0-9]+$/],
  ['ignore-daemonsets', /^true$/],
  ['delete-emptydir-data', /^(?:true|false)$/],
  ['timeout', /^[0-9]+s$/],
  ['no-headers', /^true$/],
]);

/** A positional argument: a name, `type/name`, or `container=image`; never an option. */
const POSITIONAL = /^[a-z0-9][A-Za-z0-9._:/@=+-]*$/;

/** A flag and its value, written as `--name=value`. */
export type Flag = readonly [name: string, value: string | number | boolean];

/**
 * The arguments (after the program) for one kubectl run against `target`.
 * @throws Error (a bug in the skill, never the model's input) when the result fails {@link checkKubectlArgs}.
 */
export function kubectlArgs(verb: Verb, target: Target, flags: readonly Flag[], positionals: readonly string[]): string[] {
  const pin: Flag[] = [['context', target.context]];
  if (target.namespace !== undefined) pin.push(['namespace', target.namespace]);
  const args = [...verb.split(' '), ...[...pin, ...flags].map(([name, value]) => `--${name}=${String(value)}`), '--', ...positionals];
  checkKubectlArgs(args);
  return args;
}

/**
 * Check a finished argv: a known verb, exactly one `--context=`, at most one `--namespace=`,
 * every flag on the allowlist with a value of the expected shape, then `--`, then positionals
 * that cannot be read as options.
 * @throws Error naming the first thing wrong.
 */
export function checkKubectlArgs(args: readonly string[]): void {
  const end = args.indexOf('--');
  if (end < 0 || args.indexOf('--', end + 1) >= 0) throw new Error('kubectl argv: expected exactly one "--"');
  const head = args.slice(0, end);
  const verb = VERBS.find((v) => {
    const words = v.split(' ');
    return words.every((word, i) => head[i] === word) && (head[words.length] === undefined || head[words.length]!.startsWith('--'));
  });
  if (verb === undefined) throw new Error(`kubectl argv: unknown verb ${JSON.stringify(head.slice(0, 2).join(' '))}`);
  const seen = new Map<string, number>();
  for (const arg of head.slice(verb.split(' ').length)) {
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    const shape = match ? ALLOWED_FLAGS.get(match[1]!) : undefined;
    if (!match || !shape) throw new Error(`kubectl argv: flag ${JSON.stringify(arg.slice(0, 40))} is not allowed`);
    if (!shape.test(match[2]!)) throw new Error(`kubectl argv: bad value for --${match[1]}`);
    seen.set(match[1]!, (seen.get(match[1]!) ?? 0) + 1);
  }
  if (seen.get('context') !== 1) throw new Error('kubectl argv: expected exactly one --context');
  for (const [name, count] of seen) if (count > 1) throw new Error(`kubectl argv: --${name} given twice`);
  for (const arg of args.slice(end + 1)) {
    if (!POSITIONAL.test(arg)) throw new Error(`kubectl argv: argument ${JSON.stringify(arg.slice(0, 40))} is not allowed`);
  }
}
