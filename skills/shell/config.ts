/**
 * The `shell` skill's settings (`skills.config.shell` in config.yaml), checked whole before any
 * command runs. A mistake is an error naming its key (`skills.config.shell.allowed_commands[1]:
 * …`), and while the settings have one, every command is refused: a half-read allowlist is
 * never used.
 *
 * ```yaml
 * skills:
 *   builtin: [shell]
 *   config:
 *     shell:
 *       allowed_commands:
 *         - [systemctl, status]                  # a prefix: more operands may follow
 *         - [systemctl, restart, "*"]            # "*": exactly one argument, not an option
 *         - prefix: [journalctl, -u, "*"]
 *           options: [--since, --until, -n, --no-pager]
 *         - { prefix: [df, -h], exact: true }    # nothing may follow
 *       read_only_commands:                      # these run without asking; must be allowed too
 *         - [systemctl, status]
 *         - [journalctl, -u, "*"]                # within an allowed entry, so not [journalctl]
 *         - [df, -h]
 *       timeout_seconds: 60
 *       max_output_bytes: 10240
 *       path: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 *       cwd: /
 * ```
 */
import { isAbsolute, normalize } from 'node:path';
import { checkArgv, isCommandRunner, isInterpreter, looksLikeOption, programName, SAFE_SEARCH_PATH, z } from 'mithai';

/** The pattern that stands for one argument (any value that is not an option). */
export const WILDCARD = '*';
/** The longest `timeout_seconds` accepted (the tool's own runtime limit sits just above it). */
export const MAX_TIMEOUT_SECONDS = 600;
/** The largest `max_output_bytes` accepted. */
export const MAX_OUTPUT_BYTES_LIMIT = 1024 * 1024;

/** One entry of `allowed_commands`. */
export interface AllowedCommand {
  /** Where it is in the config, e.g. `allowed_commands[2]`. */
  key: string;
  /** The program, then literal arguments or {@link WILDCARD}s. */
  prefix: readonly string[];
  /** Options that may follow the prefix (`--since` also admits `--since=…`). */
  options: ReadonlySet<string>;
  /** True when nothing may follow the prefix. */
  exact: boolean;
}

/** One entry of `read_only_commands`. */
export interface ReadOnlyPrefix {
  key: string;
  prefix: readonly string[];
}

/** The settings, checked and with defaults applied. */
export interface ShellConfig {
  allowed: readonly AllowedCommand[];
  readOnly: readonly ReadOnlyPrefix[];
  timeoutMs: number;
  maxOutputBytes: number;
  /** Folders a program name is looked up in; also the child's `PATH`. */
  searchPath: readonly string[];
  /** The child's working folder; relative program paths start here. */
  cwd: string;
}

/** The settings are wrong; the message names every key at fault. */
export class ShellConfigError extends Error {
  constructor(problems: readonly string[]) {
    super(`the shell skill's settings are invalid, so no command runs until an operator fixes config.yaml: ${problems.join('; ')}`);
    this.name = 'ShellConfigError';
  }
}

const KEY = 'skills.config.shell';

const numeric = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), schema);
const absoluteFolder = z
  .string()
  .refine((dir) => isAbsolute(dir), 'must be an absolute folder (an empty or relative entry would search the working folder)')
  .transform((dir) => normalize(dir));
const argument = z.string().min(1, 'an argument must not be empty');
const prefix = z.array(argument).min(1, 'a command needs at least its program');
const entry = z.preprocess(
  (v) => (Array.isArray(v) ? { prefix: v } : v),
  z.strictObject({
    prefix,
    options: z.array(z.string().regex(/^-./, 'an option starts with "-"')).default([]),
    exact: z.boolean().default(false),
  }),
);

const schema = z.strictObject({
  allowed_commands: z.array(entry).default([]),
  read_only_commands: z.array(prefix).default([]),
  timeout_seconds: numeric(z.number().positive().max(MAX_TIMEOUT_SECONDS)).default(60),
  max_output_bytes: numeric(z.number().int().min(1).max(MAX_OUTPUT_BYTES_LIMIT)).default(10 * 1024),
  path: z
    .preprocess((v) => (typeof v === 'string' ? v.split(':') : v), z.array(absoluteFolder).min(1, 'needs at least one folder'))
    .default([...SAFE_SEARCH_PATH]),
  cwd: absoluteFolder.default('/'),
});

/** Parsed settings per config object, so a config is read once rather than at every call. */
const parsedConfigs = new WeakMap<object, ShellConfig | ShellConfigError>();

/**
 * The settings in `raw` (the skill's `ctx.config`), parsed once per config object.
 * @throws ShellConfigError naming each key at fault
 */
export function settings(raw: Record<string, unknown>): ShellConfig {
  let result = parsedConfigs.get(raw);
  if (result === undefined) {
    try {
      result = parseShellConfig(raw);
    } catch (err) {
      if (!(err instanceof ShellConfigError)) throw err;
      result = err;
    }
    parsedConfigs.set(raw, result);
  }
  if (result instanceof ShellConfigError) throw result;
  return result;
}

/**
 * Check `raw` (the skill's `ctx.config`) and return the settings.
 * @throws ShellConfigError naming each key at fault
 */
export function parseShellConfig(raw: unknown): ShellConfig {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) throw new ShellConfigError(parsed.error.issues.map((issue) => describeIssue(issue, raw)));
  const value = parsed.data;
  const problems: string[] = [];
  const allowed = value.allowed_commands.map((e, i): AllowedCommand => {
    const key = `allowed_commands[${i}]`;
    problems.push(...checkAllowed(key, e.prefix, e.options).map((p) => `${KEY}.${p}`));
    return { key, prefix: e.prefix, options: new Set(e.options), exact: e.exact };
  });
  const readOnly = value.read_only_commands.map((p, i): ReadOnlyPrefix => {
    const key = `read_only_commands[${i}]`;
    const refusal = checkArgv(p);
    if (refusal) problems.push(`${KEY}.${key}: ${refusal.message}`);
    else if (!allowed.some((a) => covers(a, p))) {
      problems.push(`${KEY}.${key}: ${show(p)} is not within any of allowed_commands; a read-only command must be allowed too (add it there, or narrow it to an allowed prefix)`);
    }
    return { key, prefix: p };
  });
  if (problems.length > 0) throw new ShellConfigError(problems);
  return {
    allowed,
    readOnly,
    timeoutMs: Math.round(value.timeout_seconds * 1000),
    maxOutputBytes: value.max_output_bytes,
    searchPath: value.path,
    cwd: value.cwd,
  };
}

/** Problems of one allowed entry, each starting with its key. */
function checkAllowed(key: string, prefix: readonly string[], options: readonly string[]): string[] {
  const [program] = prefix as [string, ...string[]];
  if (program.includes('/') && !isAbsolute(program)) return [`${key}: the program ${show([program])} must be a name or an absolute path`];
  const refusal = checkArgv(prefix);
  if (refusal) return [`${key}: ${refusal.message}`];
  const name = programName(program);
  const args = prefix.slice(1);
  const problems: string[] = [];
  if (isInterpreter(name) && !args.some((a) => a !== WILDCARD && !looksLikeOption(a))) {
    problems.push(`${key}: the interpreter ${name} alone would run any script or code; put the script in the prefix, e.g. [${name}, /opt/ops/report]`);
  }
  if (isCommandRunner(name) && args.includes(WILDCARD)) {
    problems.push(`${key}: ${name} runs the command in its arguments, so a "${WILDCARD}" there would let any command run; list each command exactly`);
  }
  for (const [j, option] of options.entries()) {
    const optionRefusal = checkArgv([...prefix, option]);
    if (optionRefusal) problems.push(`${key}.options[${j}]: ${optionRefusal.message}`);
  }
  return problems;
}

/** Whether every call that starts with `readOnly` is within `allowed`'s prefix (program compared by name). */
function covers(allowed: AllowedCommand, readOnly: readonly string[]): boolean {
  const { prefix } = allowed;
  if (programName(prefix[0]!) !== programName(readOnly[0]!)) return false;
  if (allowed.exact ? readOnly.length !== prefix.length : readOnly.length < prefix.length) return false;
  return prefix.every((p, i) => i === 0 || p === readOnly[i] || (p === WILDCARD && !looksLikeOption(readOnly[i]!)));
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path;
  const isEntry = path.length === 2 && path[0] === 'allowed_commands';
  // The array form of an entry is read as { prefix: [...] }; report its elements as written.
  const entryIsArray = path[0] === 'allowed_commands' && typeof path[1] === 'number' && Array.isArray(elementAt(raw, path[1]));
  const shown = entryIsArray && path[2] === 'prefix' ? [...path.slice(0, 2), ...path.slice(3)] : path;
  const key = [KEY, ...shown.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('');
  if (issue.code === 'unrecognized_keys') {
    const known = isEntry ? 'prefix, options, exact' : Object.keys(schema.shape).join(', ');
    return `${key}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; expected ${known}`;
  }
  if (isEntry && issue.code === 'invalid_type') {
    return `${key}: expected a list such as [systemctl, status], or { prefix: [...], options: [...], exact: true|false }`;
  }
  return `${key}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

function elementAt(raw: unknown, index: number): unknown {
  const list = (raw as { allowed_commands?: unknown } | null | undefined)?.allowed_commands;
  return Array.isArray(list) ? list[index] : undefined;
}

/** A prefix as written in YAML flow style, for messages. */
export function show(prefix: readonly string[]): string {
  return `[${prefix.map((a) => (/^[A-Za-z0-9._+@/:=*-]+$/.test(a) ? a : JSON.stringify(a))).join(', ')}]`;
}
