/**
 * Checks on an argv before a tool runs it: the rules that hold whatever a skill allows. The
 * built-in `shell` skill applies them to every call (and to its own config); any skill that
 * runs a program the model names can call {@link checkArgv} the same way.
 *
 * No shell ever runs (`runArgv` executes argv directly), so shell syntax in an argument would
 * be inert text. It is refused anyway: as defence in depth (a program that hands an argument
 * to a shell of its own, `ssh host …`, `kubectl exec … -- …`) and because it is the clearest
 * sign of an injection attempt or of a model that thinks a shell is there.
 *
 * Every argument, the program included, is checked in its raw form and in its NFKC form, so a
 * compatibility look-alike (fullwidth `；` or `＆`, small `﹔`) is refused like the character
 * it stands for. What is refused, with the rule named in the message:
 *
 * - `empty_argv`, `not_a_string`, `too_many_arguments`, `argument_too_long`: the shape
 *   ({@link ARGV_LIMITS});
 * - `invisible_character`: NUL and other controls (newline, tab, ESC), format characters
 *   (zero-width, bidi overrides and isolates, BOM), lone surrogates, private-use and
 *   unassigned code points, line and paragraph separators;
 * - `shell_syntax`: `;` `&` `|` `` ` `` `<` `>` `$(` `${`;
 * - `program_name`: a program that is not plain ASCII letters, digits and `. _ + @ - /`
 *   (homoglyphs such as a Cyrillic `ѕ`, fullwidth letters), or that starts with `-`;
 * - `privilege`: `sudo`, `su`, `doas`, `pkexec`, … as the program or as any argument, and shell
 *   builtins (`eval`, `exec`, `source`, …) as the program;
 * - `inline_code`: an interpreter (`sh`, `bash`, `python3`, `node`, `perl`, `awk`, …) as the
 *   program with an inline-code option anywhere after it (`-c`, `-e`, `-p`, `--eval`, bundles
 *   such as `-lc`); or named further along (`kubectl exec pod -- sh -c …`) and directly followed
 *   by one (exact spellings there, so `kubectl get node -owide` passes);
 * - `exec_option`: options that make a program run another command or read a config that
 *   can (`-exec` and `-ok` of find, `--to-command` of tar, `--rsh` of rsync, ssh's
 *   `ProxyCommand`, `--kubeconfig`, …), refused for every program.
 *
 * These are deny rules, so they cannot be complete; the boundary is the caller's allowlist
 * (which programs, which options). They catch what an allowlist entry was never meant to let
 * through.
 */
import { basename } from 'node:path';

/** The rules of this module, as named in refusal messages. */
export type GuardRule =
  | 'empty_argv'
  | 'not_a_string'
  | 'too_many_arguments'
  | 'argument_too_long'
  | 'invisible_character'
  | 'shell_syntax'
  | 'program_name'
  | 'privilege'
  | 'inline_code'
  | 'exec_option';

/** Why an argv was refused. */
export interface GuardRefusal {
  rule: GuardRule;
  /** A sentence for the model (and the log): what was refused and what to do instead. */
  message: string;
  /** The argv index at fault, when one is. */
  index?: number;
}

/** Shape limits of {@link checkArgv}. */
export interface ArgvLimits {
  /** Elements of argv at most, the program included. */
  maxArguments: number;
  /** UTF-16 code units per element at most. */
  maxArgumentLength: number;
}

/** The default shape limits: 64 elements of at most 1024 characters. */
export const ARGV_LIMITS: ArgvLimits = Object.freeze({ maxArguments: 64, maxArgumentLength: 1024 });

/**
 * A command a tool refused to run. The message starts with `refused (<rule>):` so the model,
 * the log and a test can tell which rule it was.
 */
export class CommandRefusedError extends Error {
  readonly rule: string;
  constructor(rule: string, message: string) {
    super(`refused (${rule}): ${message}`);
    this.name = 'CommandRefusedError';
    this.rule = rule;
  }
}

/** Controls, format characters, lone surrogates, private use, unassigned, line/paragraph separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;
/** Shell syntax; `$` only before `(` or `{` (a lone `$` expands nothing without a shell). */
const SHELL_SYNTAX = /[;&|`<>]|\$[({]/;
const SAFE_PROGRAM = /^[A-Za-z0-9._+@/-]+$/;

/** Programs that run something as another user or with other rights. Refused anywhere in argv. */
const PRIVILEGE_PROGRAMS = new Set(['sudo', 'su', 'doas', 'pkexec', 'runuser', 'sudoedit', 'ksu', 'sg', 'newgrp', 'setpriv', 'capsh']);
/** Shell builtins: never a program a model means to run. Refused as the program. */
const SHELL_BUILTINS = new Set(['eval', 'exec', 'source', '.', 'command', 'builtin', 'alias', 'trap']);

/**
 * Programs whose arguments are a command they run (`env CMD`, `xargs CMD`, `timeout 5 CMD`,
 * `ssh HOST CMD`). An allowlist entry for one of them can only sensibly mean that exact argv.
 */
const COMMAND_RUNNERS = new Set([
  'env', 'xargs', 'nice', 'nohup', 'timeout', 'stdbuf', 'setsid', 'chroot', 'unshare', 'nsenter', 'flock', 'watch',
  'strace', 'ltrace', 'time', 'script', 'ionice', 'chrt', 'taskset', 'busybox', 'toybox', 'parallel', 'systemd-run',
  'systemd-nspawn', 'at', 'batch', 'firejail', 'bwrap', 'prlimit', 'numactl', 'cgexec', 'ssh', 'rsh', 'tmux', 'screen',
  'valgrind', 'gdb', 'faketime', 'fakeroot', 'proot', 'sshpass', 'run-parts', 'catchsegv', 'dbus-launch',
]);

/** Interpreters: programs that run code given inline or as a script operand. */
const INTERPRETER =
  /^(?:sh|bash|dash|zsh|ksh|ksh93|mksh|pdksh|ash|yash|fish|csh|tcsh|elvish|xonsh|pwsh|powershell|(?:python|pypy)[0-9.]*|node|nodejs|deno|bun|ts-node|tsx|perl[0-9.]*|ruby[0-9.]*|irb|php[0-9.]*|lua[0-9.]*|luajit|tclsh[0-9.]*|wish[0-9.]*|awk|gawk|mawk|nawk|sed|gsed|osascript|rscript|julia|jshell|groovy|scala|expect|erl|escript|elixir|iex|guile|racket|sbcl|clisp|ghci|runghc|swift|jrunscript|jjs|qjs|gjs)$/;
/** Long options that hand an interpreter code to run inline (or a module to preload). */
const INLINE_LONG = new Set(['--command', '--eval', '--print', '--execute', '--exec', '--require', '--import', '--loader', '--experimental-loader', '--code', '--source', '--expression', '--eval-command']);
/** Letters that, inside a short-option bundle, hand an interpreter code (`-c`, `-e`, `-E`, `-p`, `-r`). */
const INLINE_SHORT = /^-[A-Za-z]*[ceEpr][A-Za-z]*$/;
/**
 * The inline-code options looked for after an interpreter named further along argv (`kubectl
 * exec pod -- sh -c …`), where the name may just be a word (`kubectl get node -owide`): exact
 * spellings only, so ordinary options of the outer program pass.
 */
const INLINE_AFTER_WORD = new Set(['-c', '-e', '-E', '-lc', '-ic', '-xc', '-ec', '-cx', '-ce', '-lic', '-ilc', '-pe', '-ne', '-le', '-lne', '-ane', '--command', '--eval', '--execute', '--expression', '--source']);

/** Options that run another command (or read a config that can), refused for every program. */
const EXEC_OPTIONS = new Set([
  '-exec', '-execdir', '-ok', '-okdir', '-fprint', '-fprint0', '-fprintf', '-fls', // find
  '--exec', '--exec-batch', // fd
  '--to-command', '--checkpoint-action', '--use-compress-program', '--rsh-command', '--info-script', '--new-volume-script', '--rmt-command', // tar
  '--rsh', '--rsync-path', // rsync
  '--upload-pack', '--receive-pack', '--config-env', // git
  '--unzip-command', '-TT', // zip
  '--kubeconfig', // kubectl, helm: a kubeconfig can name an exec credential plugin
]);
/** ssh (and scp, rsync -e ssh) settings that run a local command, wherever they appear. */
const SSH_COMMAND_SETTINGS = /proxycommand|localcommand|knownhostscommand|permitlocalcommand/i;

/**
 * The first rule `argv` breaks, or undefined when it breaks none. Checks the shape, then every
 * element's characters, then the program name, then the rules about programs and options.
 */
export function checkArgv(argv: readonly string[], limits: ArgvLimits = ARGV_LIMITS): GuardRefusal | undefined {
  if (!Array.isArray(argv) || argv.length === 0 || argv[0] === '') return { rule: 'empty_argv', message: 'argv is empty; its first element names the program to run' };
  if (argv.length > limits.maxArguments) {
    return { rule: 'too_many_arguments', message: `argv has ${argv.length} elements; at most ${limits.maxArguments} are accepted` };
  }
  for (const [index, arg] of argv.entries()) {
    if (typeof arg !== 'string') return { rule: 'not_a_string', index, message: `argv[${index}] is not a string` };
    if (arg.length > limits.maxArgumentLength) {
      return { rule: 'argument_too_long', index, message: `argv[${index}] is ${arg.length} characters long; at most ${limits.maxArgumentLength} are accepted` };
    }
  }
  for (const [index, arg] of argv.entries()) {
    const refusal = checkArgument(arg, index);
    if (refusal) return refusal;
  }
  return checkProgramName(argv[0]!) ?? checkPrivilege(argv) ?? checkInlineCode(argv) ?? checkExecOptions(argv);
}

/**
 * The character rules for one argument (`invisible_character`, `shell_syntax`), on its raw
 * and its NFKC form. Exported for checking a config's literal arguments the same way.
 */
export function checkArgument(arg: string, index: number): GuardRefusal | undefined {
  const invisible = INVISIBLE.exec(arg);
  if (invisible) {
    return {
      rule: 'invisible_character',
      index,
      message: `argv[${index}] ${describeArgument(arg)} contains ${codePoint(invisible[0])} (a control, invisible or unassigned character); send plain text only`,
    };
  }
  const normalized = arg.normalize('NFKC');
  const syntax = SHELL_SYNTAX.exec(arg) ?? SHELL_SYNTAX.exec(normalized);
  if (syntax) {
    const lookAlike = !SHELL_SYNTAX.test(arg);
    return {
      rule: 'shell_syntax',
      index,
      message:
        `argv[${index}] ${describeArgument(arg)} contains ${lookAlike ? `a look-alike of "${syntax[0]}"` : `"${syntax[0]}"`}; no shell runs, so ` +
        'pipes, redirections, command lists and substitutions are refused: run one program per call, one argument per argv element',
    };
  }
  return undefined;
}

/** The name a program is known by: the last part of its path, as typed. */
export function programName(program: string): string {
  return basename(program);
}

/** Whether `name` (a program's name, see {@link programName}) runs the command in its arguments. */
export function isCommandRunner(name: string): boolean {
  return COMMAND_RUNNERS.has(normalizedName(name));
}

/** Whether `name` is an interpreter (shells, python, node, perl, awk, sed, …). */
export function isInterpreter(name: string): boolean {
  return INTERPRETER.test(normalizedName(name));
}

/** Whether `name` is a privilege program (`sudo`, `su`, …) or a shell builtin (`eval`, `exec`, …). */
export function isPrivilegeOrBuiltin(name: string): boolean {
  const n = normalizedName(name);
  return PRIVILEGE_PROGRAMS.has(n) || SHELL_BUILTINS.has(n);
}

/** Whether an argument is an option (starts with `-`, raw or after NFKC); a lone `-` is not. */
export function looksLikeOption(arg: string): boolean {
  return [arg, arg.normalize('NFKC')].some((form) => form.length > 1 && form.startsWith('-'));
}

/** The option name of `--name=value` (or the argument itself). */
export function optionName(arg: string): string {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 2 ? arg.slice(0, eq) : arg;
}

/** An argument as shown in a message: quoted, non-ASCII as `\uXXXX`, clipped. */
export function describeArgument(arg: string): string {
  const clipped = arg.length > 60 ? `${arg.slice(0, 57)}...` : arg;
  return JSON.stringify(clipped).replace(/[^\x20-\x7e]/gu, (ch) => codePoint(ch).replace('U+', '\\u'));
}

function checkProgramName(program: string): GuardRefusal | undefined {
  if (SAFE_PROGRAM.test(program) && !program.startsWith('-')) return undefined;
  return {
    rule: 'program_name',
    index: 0,
    message: `the program ${describeArgument(program)} is not a plain name or path (ASCII letters, digits and . _ + @ - / only); look-alike characters are refused`,
  };
}

function checkPrivilege(argv: readonly string[]): GuardRefusal | undefined {
  const program = normalizedName(programName(argv[0]!));
  if (SHELL_BUILTINS.has(program)) {
    return { rule: 'privilege', index: 0, message: `"${program}" is a shell builtin, not a program; no shell runs` };
  }
  for (const [index, arg] of argv.entries()) {
    const name = normalizedName(index === 0 ? programName(arg) : programName(arg.normalize('NFKC')));
    if (PRIVILEGE_PROGRAMS.has(name)) {
      return { rule: 'privilege', index, message: `argv[${index}] is "${name}": commands never change user or gain rights; ask an operator` };
    }
  }
  return undefined;
}

function checkInlineCode(argv: readonly string[]): GuardRefusal | undefined {
  // The program itself: every later argument counts (an interpreter may only run the script
  // an operator allowed, so an inline-code option anywhere is refused).
  const program = programName(argv[0]!);
  if (isInterpreter(program)) {
    for (let index = 1; index < argv.length; index++) {
      const option = optionName(argv[index]!.normalize('NFKC'));
      if (INLINE_LONG.has(option) || INLINE_SHORT.test(option)) return inlineCode(index, option, program);
    }
  }
  // An interpreter named further along (a command another program runs): the options right
  // after its name, up to the first operand, in their exact inline-code spellings.
  for (let at = 1; at < argv.length; at++) {
    const name = programName(argv[at]!.normalize('NFKC'));
    if (!isInterpreter(name)) continue;
    for (let index = at + 1; index < argv.length && looksLikeOption(argv[index]!); index++) {
      const option = optionName(argv[index]!.normalize('NFKC'));
      if (INLINE_AFTER_WORD.has(option)) return inlineCode(index, option, name);
    }
  }
  return undefined;
}

function inlineCode(index: number, option: string, interpreter: string): GuardRefusal {
  return {
    rule: 'inline_code',
    index,
    message: `argv[${index}] ${describeArgument(option)} would make the interpreter "${interpreter}" run inline code; interpreters may only run a script an operator allowed`,
  };
}

function checkExecOptions(argv: readonly string[]): GuardRefusal | undefined {
  for (let index = 1; index < argv.length; index++) {
    const normalized = argv[index]!.normalize('NFKC');
    const option = optionName(normalized);
    if (EXEC_OPTIONS.has(option) || SSH_COMMAND_SETTINGS.test(normalized)) {
      return {
        rule: 'exec_option',
        index,
        message: `argv[${index}] ${describeArgument(argv[index]!)} would make the program run another command (or load a config that can); it is always refused`,
      };
    }
  }
  return undefined;
}

/** A name as compared against the lists: NFKC, lower case, a `.exe` suffix dropped. */
function normalizedName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\.exe$/, '');
}

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
