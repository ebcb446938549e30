/**
 * The environment for a program run on the model's behalf: `ctx.childEnv()` (already free of
 * credentials) without the variables that make an allowed program load or run other code, and
 * with `PATH` set to the search path the program was resolved against, so the child looks up
 * programs where the allowlist did, not where the runtime does.
 *
 * Dropped, on top of what `childEnv` drops: the dynamic loader's `LD_*` / `DYLD_*`, the start-up
 * hooks of shells (`BASH_ENV`, `ENV`, `BASH_FUNC_*`, `PROMPT_COMMAND`, `SHELLOPTS`, `IFS`, …) and
 * interpreters (`NODE_OPTIONS`, `PYTHONSTARTUP`, `PYTHONPATH`, `PYTHONWARNINGS`, `PERL5OPT`,
 * `RUBYOPT`, `LUA_INIT`, `PHPRC`, `JAVA_TOOL_OPTIONS`, …), every `GIT_*` variable (git has many
 * that run a command or read a config that can: `GIT_SSH_COMMAND`, `GIT_EXTERNAL_DIFF`,
 * `GIT_CONFIG_GLOBAL`, `GIT_EDITOR`, …), pagers, editors and their preprocessors (`PAGER`,
 * `SYSTEMD_EDITOR`, `LESSOPEN`, `KUBE_EDITOR`, …), `OPENSSL_CONF` (it can load an engine, a shared
 * library) and the ask-pass helpers of ssh and sudo. These come from the runtime's own environment, not from the model, but an
 * allowlisted `systemctl` must be that program and nothing it was told to preload.
 */

/**
 * Name prefixes of code-loading variables. Every `GIT_*` one: git has too many that run a
 * command or read a config that can (`GIT_EXTERNAL_DIFF`, `GIT_CONFIG_GLOBAL`, `GIT_EDITOR`, …).
 */
const CODE_LOADING_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'GIT_', 'LUA_INIT'];
/** Exact names of code-loading and command-hook variables. */
const CODE_LOADING_NAMES = new Set([
  'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'IFS', 'CDPATH', 'GLOBIGNORE',
  'NODE_OPTIONS', 'NODE_PATH', 'PYTHONSTARTUP', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONINSPECT', 'PYTHONUSERBASE',
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS',
  'GCONV_PATH', 'GIT_EXEC_PATH', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_PROXY_COMMAND', 'GIT_ASKPASS', 'GIT_CONFIG_PARAMETERS',
  'SSH_ASKPASS', 'SUDO_ASKPASS', 'PAGER', 'MANPAGER', 'SYSTEMD_PAGER', 'SYSTEMD_PAGERSECURE', 'SYSTEMD_EDITOR', 'GIT_PAGER', 'EDITOR', 'VISUAL',
  'LESSOPEN', 'LESSCLOSE', 'KUBE_EDITOR', 'KUBECTL_EXTERNAL_DIFF', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'OPENSSL_MODULES', 'PHPRC',
  'PHP_INI_SCAN_DIR', 'ZDOTDIR', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'BROWSER',
]);

/** Whether a variable of this name makes a program load or run code it was not asked to. */
export function isCodeLoadingVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return CODE_LOADING_NAMES.has(upper) || CODE_LOADING_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/**
 * `base` (pass `ctx.childEnv()`) without code-loading variables, with `PATH` set to
 * `searchPath`. Never mutates `base`.
 */
export function commandEnv(base: Readonly<Record<string, string>>, searchPath: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (name.toUpperCase() !== 'PATH' && !isCodeLoadingVariable(name)) out[name] = value;
  }
  out.PATH = searchPath.join(':');
  return out;
}
