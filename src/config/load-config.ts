/**
 * Loads config.yaml: `.env` → YAML (with line numbers) → secret lint → `${VAR}` substitution →
 * schema validation → path resolution. Every failure is a ConfigError that names the file, the
 * key path and (when known) the line, and never a value.
 *
 * Order matters: the secret lint runs on the raw document, before substitution, because after
 * substitution every `${SLACK_BOT_TOKEN}` *is* a token and the lint could no longer tell a
 * reference from a pasted credential.
 *
 * @example
 * const loaded = loadConfig('/srv/bot/config.yaml');
 * const apiKey = requireSecret(loaded, 'llm.anthropic.api_key', 'ANTHROPIC_API_KEY');
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { ConfigError, errorMessage } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';
import { displayPath } from './display-path.ts';
import { formatYamlErrors, formatConfigIssues } from './format-config-issues.ts';
import { keyWords, lintSecrets } from './secret-lint.ts';
import { substituteEnv, tokenizeEnvString } from './substitute-env.ts';
import { walkYamlScalars } from './walk-yaml-scalars.ts';

export { requireSecret, type SecretKeyPath } from './require-secret.ts';

/** A validated config plus where it came from and the secrets it resolved. */
export interface LoadedConfig {
  /** The validated config; relative paths are already absolute (resolved against `dir`). */
  config: Config;
  /** Absolute path of config.yaml. */
  path: string;
  /** Absolute directory holding config.yaml (and `.env`). */
  dir: string;
  /** The merged environment used for substitution: the real environment over `.env`. */
  env: Record<string, string | undefined>;
  /**
   * Values the redactor must know: every value of a secret variable (see
   * {@link isSecretVariableName}), however short (the redactor applies its own floor), any
   * other substituted value that looks like a secret (8+ characters, not a number or boolean),
   * and the resolved tokens.
   */
  secrets: string[];
  /**
   * Names (never values) of the secret variables the config uses, sorted: `${NAME}` references
   * whose name, or the key they stand under, looks like a secret, and whose value is not empty
   * or a switch (`true`, `off`). `mithai doctor` checks their length (secretsTooShortToRedact).
   */
  secretNames: string[];
}

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The real environment (default `process.env`); it wins over `.env`. Never mutated. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Load, check and validate a config file.
 *
 * @param path - path to config.yaml (relative paths are resolved against the working directory).
 * @returns the validated config with absolute paths, the merged environment and the secrets.
 * @throws ConfigError when the file is missing or unreadable, `.env` is unreadable, the YAML
 *   is malformed, the file holds a literal credential, a `${NAME}` is unset, or validation fails.
 */
export function loadConfig(path: string, options: LoadConfigOptions = {}): LoadedConfig {
  const absPath = resolve(path);
  const dir = dirname(absPath);
  const file = displayPath(absPath);

  if (!existsSync(absPath)) throw missingConfigError(absPath);
  const text = readText(absPath, file);
  const env = mergeEnv(dir, options.env ?? process.env);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // yaml's messages quote source text (a block scalar header, a tag, a key): keep only the
    // fixed phrase, so a secret typed on that line never reaches the error.
    const lines = formatYamlErrors(doc.errors, file);
    throw new ConfigError(`${file} is not valid YAML:\n  ${lines.join('\n  ')}`, { code: 'config_yaml' });
  }

  lintSecrets(doc, { file, lineCounter });
  const namedSecrets = secretReferences(doc, env); // before substitution replaces the references
  const { secretCandidates } = substituteEnv(doc, { env, file, lineCounter });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError(`${file} could not be read as data (${errorMessage(err)}); simplify its anchors and aliases`, { cause: err });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}: expected key: value pairs at the top level (bot:, adapter:, llm:, ...)`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const lines = formatConfigIssues(parsed.error.issues, { file, doc, lineCounter, data, schema: configSchema });
    throw new ConfigError(lines.length === 1 ? lines[0]! : `${file} has ${lines.length} problems:\n  ${lines.join('\n  ')}`);
  }

  const config = resolvePaths(parsed.data, dir);
  checkMemoryPath(config, absPath, file);
  const secrets = new Set(secretCandidates);
  for (const value of namedSecrets.values()) secrets.add(value);
  for (const value of [config.llm.anthropic.api_key, config.adapter.slack.bot_token, config.adapter.slack.app_token]) {
    if (value) secrets.add(value);
  }
  return { config, path: absPath, dir, env, secrets: [...secrets], secretNames: [...namedSecrets.keys()].sort() };
}

// ---- which variables are secrets ---------------------------------------------------------

/** Words that make a variable a secret wherever they stand in its name (`DB_PASS`, `SIM_PIN`, `SENTRY_DSN`). */
const SECRET_NAME_WORDS = new Set([
  'token', 'tokens', 'secret', 'secrets', 'pass', 'password', 'passwords', 'passwd', 'passphrase', 'passcode', 'pwd', 'pw',
  'pin', 'pincode', 'key', 'keys', 'credential', 'credentials', 'cred', 'creds', 'auth', 'oauth', 'authorization', 'bearer',
  'dsn', 'jwt', 'otp', 'totp', 'hmac', 'cookie', 'signature', 'pat', 'salt',
]);
/** One-word compounds: `APIKEY`, `AUTHTOKEN`, `DBPASSWORD`, `CLIENTSECRET`. */
const SECRET_WORD_ENDINGS = /(?:key|token|tokens|secret|password|passwd|pwd|credentials?)$/;
/** Last words that say a variable describes a secret rather than holds it (`TOKEN_URL`, `KEY_TTL`, `AUTH_MODE`). */
const DESCRIBING_WORDS = new Set([
  'url', 'uri', 'endpoint', 'host', 'hostname', 'port', 'path', 'file', 'dir', 'name', 'id', 'type', 'kind', 'mode', 'method',
  'ttl', 'timeout', 'expiry', 'interval', 'seconds', 'ms', 'enabled', 'disabled', 'required', 'user', 'username', 'login',
  'region', 'version', 'format', 'length', 'size', 'env', 'var', 'provider',
]);
/** Words that make a variable a count or a budget (`MAX_TOKENS`, `TOKENS_PER_TURN`). */
const COUNT_WORDS = new Set(['max', 'min', 'num', 'per', 'count', 'budget', 'limit']);
/** First words that make a variable a switch (`USE_AUTH`, `REQUIRE_PASSWORD`). */
const SWITCH_WORDS = new Set(['use', 'enable', 'enabled', 'disable', 'disabled', 'require', 'required', 'skip', 'no', 'allow', 'is', 'has', 'with', 'without']);

/**
 * The secret-name rule: whether a variable (or a config key) is named like a secret, so that
 * its value is a secret whatever it looks like: short (`SIM_PIN=482913`), digits only, or with
 * no token shape. The name is split into words (`DB_PASSWORD`, `dbPassword`, `db-password`) and
 * it is secret-named when a word is one of token(s), secret(s), pass, password, passwd,
 * passphrase, pwd, pin, key(s), credential(s), creds, auth, oauth, authorization, bearer, dsn,
 * jwt, otp, hmac, cookie, signature, pat, salt, or ends in key, token, secret, password, pwd
 * (`APIKEY`, `AUTHTOKEN`). Whole words, so `PING_URL`, `KEYBOARD`, `AUTHOR`, `PASSTHROUGH` are
 * not. Not when the last word says it describes a secret (`TOKEN_URL`, `KEY_TTL`,
 * `AUTH_MODE`), a word makes it a count (`MAX_TOKENS`), or the first word a switch (`USE_AUTH`).
 */
export function isSecretVariableName(name: string): boolean {
  const words = keyWords(name);
  const last = words[words.length - 1];
  if (last === undefined || DESCRIBING_WORDS.has(last)) return false;
  if (words.some((w) => COUNT_WORDS.has(w))) return false;
  if (words.length > 1 && SWITCH_WORDS.has(words[0]!)) return false;
  return words.some((w) => SECRET_NAME_WORDS.has(w) || SECRET_WORD_ENDINGS.test(w));
}


/** A switch, not a secret, even under a secret-looking name (`AUTH_TOKEN_REFRESH=true`). */
const SWITCH_VALUE = /^(?:true|false|yes|no|on|off|enabled?|disabled?)$/i;

/**
 * The secret variables the document refers to, name → value (read before substitution): every
 * `${NAME}` taken from the environment (not from its default) whose name, or the key it stands
 * under (`password: ${DB}`, `bot_token: ${SLACK}`), is secret-named by
 * {@link isSecretVariableName}. Empty values and switches are left out: there is nothing to hide.
 */
function secretReferences(doc: Document, env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const found = new Map<string, string>();
  walkYamlScalars(doc, ({ node, path, isKey }) => {
    if (isKey || typeof node.value !== 'string' || !node.value.includes('${')) return;
    const key = [...path].reverse().find((segment): segment is string => typeof segment === 'string');
    const isUnderSecretKey = key !== undefined && isSecretVariableName(key);
    for (const token of tokenizeEnvString(node.value)) {
      if (token.kind !== 'reference') continue;
      const value = Object.hasOwn(env, token.name) ? env[token.name] : undefined;
      if (value === undefined || value === '' || SWITCH_VALUE.test(value.trim())) continue;
      if (isUnderSecretKey || isSecretVariableName(token.name)) found.set(token.name, value);
    }
  });
  return found;
}

/**
 * config.yaml is not where it was looked for. From a subfolder of a project (an ancestor folder
 * has a config.yaml) the error names the project root; `mithai init` there would create a
 * second project inside the first.
 */
function missingConfigError(absPath: string): ConfigError {
  const dir = dirname(absPath);
  for (let above = dirname(dir); ; above = dirname(above)) {
    const candidate = join(above, 'config.yaml');
    if (existsSync(candidate)) {
      return new ConfigError(`config.yaml not found in ${dir}; the project root is ${above} — run from there or pass --config ${candidate}`, { code: 'config_missing' });
    }
    if (dirname(above) === above) break;
  }
  return new ConfigError(`config.yaml not found at ${absPath}; run \`mithai init\` to create one`, { code: 'config_missing' });
}

function readText(absPath: string, file: string): string {
  try {
    if (statSync(absPath).isDirectory()) throw new Error('it is a directory');
    return readFileSync(absPath, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file} could not be read (${errorMessage(err)}); check the path and its permissions`, { cause: err });
  }
}

/**
 * `.env` next to config.yaml, overlaid by the real environment (the real environment wins, as
 * with dotenv itself). process.env is never mutated: skills and child processes must not
 * inherit secrets just because the config was loaded.
 */
function mergeEnv(dir: string, realEnv: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const envPath = resolve(dir, '.env');
  let fromFile: Record<string, string> = {};
  if (existsSync(envPath)) {
    try {
      fromFile = parseDotenv(readFileSync(envPath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${displayPath(envPath)} could not be read (${errorMessage(err)}); check its permissions (it should be mode 0600 and owned by you)`, { cause: err });
    }
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(realEnv)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/**
 * The memory folder is written by tools (the memory skill replaces .md/.yaml/.json files there
 * without approval), so it must not hold what decides the agent's rights: this config file and
 * the skills folders.
 */
function checkMemoryPath(config: Config, configPath: string, file: string): void {
  const memory = config.memory.path;
  const holds = (path: string): boolean => path === memory || path.startsWith(memory.endsWith(sep) ? memory : memory + sep);
  const held = [configPath, ...config.skills.paths].filter(holds);
  if (held.length > 0) {
    throw new ConfigError(`${file}: memory.path ${displayPath(memory)} holds ${held.map(displayPath).join(', ')}; tools write files in the memory folder, so point memory.path at a folder of its own (e.g. ./memory)`);
  }
}

/** Relative paths in the config are relative to config.yaml's folder, not the working directory. */
function resolvePaths(config: Config, dir: string): Config {
  return {
    ...config,
    memory: { ...config.memory, path: resolve(dir, config.memory.path) },
    state: { ...config.state, path: resolve(dir, config.state.path) },
    skills: { ...config.skills, paths: config.skills.paths.map((p) => resolve(dir, p)) },
    logging: { ...config.logging, file: config.logging.file === undefined ? undefined : resolve(dir, config.logging.file) },
  };
}
