/**
 * Secrets are optional in the schema because not every command needs every one: `mithai chat`
 * needs only the Anthropic key, `mithai run` adds the Slack tokens. Each command asks for the
 * ones it needs here, and gets a one-line error that says exactly what to put where.
 */
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { LoadedConfig } from './load-config.ts';
import { displayPath } from './display-path.ts';

/** Config keys that hold secrets. */
export type SecretKeyPath = 'llm.anthropic.api_key' | 'adapter.slack.bot_token' | 'adapter.slack.app_token';

/**
 * The value of a secret config key, which must be set and non-empty.
 *
 * @param loaded - the loaded config.
 * @param keyPath - which secret.
 * @param envName - the environment variable the operator should set, e.g. `ANTHROPIC_API_KEY`.
 * @returns the secret value.
 * @throws ConfigError (code `missing_secret`) naming the key and the variable, never a value.
 */
export function requireSecret(loaded: LoadedConfig, keyPath: SecretKeyPath, envName: string): string {
  const value = valueAt(loaded.config, keyPath);
  if (typeof value === 'string' && value.trim() !== '') return value;
  const file = displayPath(loaded.path);
  const envFile = displayPath(join(loaded.dir, '.env'));
  const segments = keyPath.split('.');
  const leaf = segments[segments.length - 1];
  const parent = segments.slice(0, -1).join('.');
  // Distinguish "no key at all" from "reference resolved to empty": in the first case putting
  // the variable in .env would not help, and the message must say so.
  const hint =
    value === undefined
      ? `add \`${leaf}: \${${envName}}\` under ${parent} in ${file} and put ${envName}=... in ${envFile} (next to ${file}) or the environment`
      : `put ${envName}=... in ${envFile} (next to ${file}) or the environment`;
  throw new ConfigError(`${file}: ${keyPath} is not set; ${hint}`, { code: 'missing_secret' });
}

function valueAt(root: unknown, keyPath: string): unknown {
  let current = root;
  for (const segment of keyPath.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
