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
import { dirname, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';
import { displayPath } from './display-path.ts';
import { formatConfigIssues } from './format-config-issues.ts';
import { lintSecrets } from './secret-lint.ts';
import { substituteEnv } from './substitute-env.ts';

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
  /** Values the redactor must know: substituted environment values and the resolved tokens. */
  secrets: string[];
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

  if (!existsSync(absPath)) {
    throw new ConfigError(`config.yaml not found at ${absPath}; run \`mithai init\` to create one`, { code: 'config_missing' });
  }
  const text = readText(absPath, file);
  const env = mergeEnv(dir, options.env ?? process.env);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const line = e.linePos?.[0]?.line;
      // yaml's pretty message carries a source excerpt; keep only its first line, since the
      // excerpt could show a secret typed on that line.
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return `${line === undefined ? file : `${file} line ${line}`}: ${message}`;
    });
    throw new ConfigError(`${file} is not valid YAML:\n  ${lines.join('\n  ')}`, { code: 'config_yaml' });
  }

  lintSecrets(doc, { file, lineCounter });
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
    const lines = formatConfigIssues(parsed.error.issues, { file, doc, lineCounter, data });
    throw new ConfigError(lines.length === 1 ? lines[0]! : `${file} has ${lines.length} problems:\n  ${lines.join('\n  ')}`);
  }

  const config = resolvePaths(parsed.data, dir);
  const secrets = new Set(secretCandidates);
  for (const value of [config.llm.anthropic.api_key, config.adapter.slack.bot_token, config.adapter.slack.app_token]) {
    if (value) secrets.add(value);
  }
  return { config, path: absPath, dir, env, secrets: [...secrets] };
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
