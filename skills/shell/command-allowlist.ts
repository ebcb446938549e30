/**
 * Whether a call's argv is one the operator allowed, which binary runs for it, and whether it
 * is read-only. Everything here refuses by throwing a {@link CommandRefusedError} whose message
 * names the rule; nothing here runs anything.
 *
 * A call is allowed by an entry of `allowed_commands` when:
 * 1. it passes every rule of the runtime's command guard (`checkArgv`);
 * 2. its program has the entry's program name and, looked up on the skill's `path` (or taken
 *    as a path from `cwd`), is the same file after symlinks as the entry's program;
 * 3. its arguments start with the entry's: a literal is matched exactly, `*` matches one
 *    argument that is not an option;
 * 4. what follows the prefix (nothing at all for an `exact` entry or a command runner such as
 *    `env`) holds no option the entry does not list, `--` excepted; an option is any argument
 *    starting with `-` other than `-` itself, and a listed `--name` also admits `--name=value`.
 *
 * The binary executed is the entry's program as found on the skill's path, by absolute path, so
 * nothing that changes a `PATH` afterwards decides what runs.
 */
import {
  checkArgv,
  CommandRefusedError,
  describeArgument,
  isCommandRunner,
  looksLikeOption,
  optionName,
  programName,
  resolveProgram,
} from 'mithai';
import type { ResolvedProgram } from 'mithai';
import { show, WILDCARD } from './config.ts';
import type { AllowedCommand, ShellConfig } from './config.ts';

/** An allowed call, ready to run. */
export interface AllowedCall {
  /** The entry that allows it. */
  entry: AllowedCommand;
  /** The binary that runs. */
  program: ResolvedProgram;
  /** What to execute: the call's argv with the program replaced by its absolute path. */
  argv: readonly string[];
  /** True when the call starts with one of `read_only_commands`. */
  readOnly: boolean;
}

/** A refusal, and how close the call came (the closest entry's reason is the one reported). */
interface Miss {
  error: CommandRefusedError;
  closeness: number;
}

const CLOSENESS = { program_unavailable: 0, different_binary: 1, not_allowed: 2, after_prefix: 3 } as const;

/**
 * The entry that allows `argv`, with the binary to run.
 * @throws CommandRefusedError naming the rule that refused it
 */
export function allowCommand(argv: readonly string[], config: ShellConfig): AllowedCall {
  const guard = checkArgv(argv);
  if (guard) throw new CommandRefusedError(guard.rule, guard.message);
  if (config.allowed.length === 0) {
    throw new CommandRefusedError(
      'not_allowed',
      'no command is allowed on this installation; an operator lists them in config.yaml under skills.config.shell.allowed_commands, e.g. `- [systemctl, status]`',
    );
  }
  const name = programName(argv[0]!);
  const candidates = config.allowed.filter((entry) => programName(entry.prefix[0]!) === name);
  if (candidates.length === 0) {
    throw new CommandRefusedError('not_allowed', `the program ${describeArgument(name)} is not allowed; the allowed programs are ${allowedPrograms(config)}`);
  }
  const where = { searchPath: config.searchPath, cwd: config.cwd };
  const called = resolveProgram(argv[0]!, where);
  if (!called.ok) throw new CommandRefusedError('program_unavailable', called.reason);

  let closest: Miss | undefined;
  const keep = (miss: Miss): void => {
    if (closest === undefined || miss.closeness > closest.closeness) closest = miss;
  };
  let allowedCall: Omit<AllowedCall, 'readOnly'> | undefined;
  // Every entry that allows the call, for the read-only decision (the first one runs).
  const allowing: AllowedCommand[] = [];
  for (const entry of candidates) {
    const allowed = resolveProgram(entry.prefix[0]!, where);
    if (!allowed.ok) {
      keep({ closeness: CLOSENESS.program_unavailable, error: new CommandRefusedError('program_unavailable', `${entry.key} ${show(entry.prefix)}: ${allowed.reason}`) });
      continue;
    }
    if (allowed.program.realPath !== called.program.realPath) {
      const message = `argv[0] ${describeArgument(argv[0]!)} is ${called.program.realPath}, but the allowed ${name} is ${allowed.program.realPath}; a path or PATH that leads to another binary is refused`;
      keep({ closeness: CLOSENESS.different_binary, error: new CommandRefusedError('different_binary', message) });
      continue;
    }
    const miss = matchArguments(argv, entry, candidates);
    if (miss) {
      keep(miss);
      continue;
    }
    allowedCall ??= { entry, program: allowed.program, argv: [allowed.program.path, ...argv.slice(1)] };
    allowing.push(entry);
  }
  if (allowedCall === undefined) throw closest!.error;
  return { ...allowedCall, readOnly: isReadOnly(argv, called.program, config, allowing) };
}

/** Why `argv`'s arguments do not fit `entry`, or undefined when they do. */
function matchArguments(argv: readonly string[], entry: AllowedCommand, candidates: readonly AllowedCommand[]): Miss | undefined {
  const { prefix } = entry;
  if (!startsWith(argv, prefix)) {
    const message = `${describeCall(argv)} is not allowed; the allowed ${programName(prefix[0]!)} commands are ${candidates.map((c) => show(c.prefix)).join(', ')}`;
    return { closeness: CLOSENESS.not_allowed, error: new CommandRefusedError('not_allowed', message) };
  }
  const rest = argv.slice(prefix.length);
  if (rest.length === 0) return undefined;
  const name = programName(prefix[0]!);
  if (isCommandRunner(name)) {
    const message = `${name} runs the command in its arguments, so only ${show(prefix)} exactly as allowed may run; argv[${prefix.length}] ${describeArgument(rest[0]!)} follows it`;
    return { closeness: CLOSENESS.after_prefix, error: new CommandRefusedError('runner_arguments', message) };
  }
  if (entry.exact) {
    const message = `${entry.key} ${show(prefix)} allows nothing after it; argv[${prefix.length}] ${describeArgument(rest[0]!)} follows it`;
    return { closeness: CLOSENESS.after_prefix, error: new CommandRefusedError('extra_arguments', message) };
  }
  for (const [offset, arg] of rest.entries()) {
    if (arg === '--' || !looksLikeOption(arg) || entry.options.has(arg) || entry.options.has(optionName(arg))) continue;
    const listed = entry.options.size === 0 ? 'it allows no options' : `its options are ${[...entry.options].join(', ')}`;
    const message = `argv[${prefix.length + offset}] ${describeArgument(arg)} is an option ${show(prefix)} does not allow (${listed}); options an operator has not listed are refused`;
    return { closeness: CLOSENESS.after_prefix, error: new CommandRefusedError('option_not_allowed', message) };
  }
  return undefined;
}

/**
 * Whether some `read_only_commands` prefix, for the same binary, starts `argv`, and the options
 * after that prefix (if any) are ones an operator allowed for that read-only command: those of
 * an allowing entry whose own prefix starts with the read-only prefix. An option that only a
 * broader entry allows (`sort -o FILE` under `{prefix: [sort], options: [-o]}`, with
 * `[sort, /etc/hostname]` read-only) makes the call a confirm, not an auto.
 */
function isReadOnly(argv: readonly string[], program: ResolvedProgram, config: ShellConfig, allowing: readonly AllowedCommand[]): boolean {
  return config.readOnly.some(({ prefix }) => {
    if (programName(prefix[0]!) !== program.name || !startsWith(argv, prefix)) return false;
    const optionsFollow = argv.slice(prefix.length).some((arg) => looksLikeOption(arg));
    if (optionsFollow && !allowing.some((entry) => entry.prefix.length >= prefix.length && startsWith(entry.prefix, prefix))) return false;
    const resolved = resolveProgram(prefix[0]!, { searchPath: config.searchPath, cwd: config.cwd });
    return resolved.ok && resolved.program.realPath === program.realPath;
  });
}

/** Whether argv's arguments start with the pattern's (the program is compared elsewhere). */
function startsWith(argv: readonly string[], pattern: readonly string[]): boolean {
  if (argv.length < pattern.length) return false;
  return pattern.every((p, i) => i === 0 || (p === WILDCARD ? !looksLikeOption(argv[i]!) : argv[i] === p));
}

function allowedPrograms(config: ShellConfig): string {
  return [...new Set(config.allowed.map((entry) => programName(entry.prefix[0]!)))].join(', ');
}

function describeCall(argv: readonly string[]): string {
  const shown = argv.slice(0, 8).map(describeArgument).join(' ');
  return argv.length > 8 ? `${shown} …` : shown;
}
