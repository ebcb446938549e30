/**
 * Secrets too short to redact: the redactor ignores known values below
 * {@link MIN_SECRET_LENGTH} (redacting every `1234` would wreck output and, by showing where
 * `1234` occurs, give the value away). Such a secret is not protected in logs, cards, the audit
 * log or tool results, so `mithai doctor` warns about it by variable name.
 */
import type { LoadedConfig } from '../config/load-config.ts';
import { MIN_SECRET_LENGTH } from './redactor.ts';

/**
 * Names (never values) of the secret variables the config uses whose value is shorter than
 * {@link MIN_SECRET_LENGTH} characters, sorted. Secret variables are those of
 * `loaded.secretNames` (named like a secret, or standing under a secret-named key).
 *
 * @example
 * for (const name of secretsTooShortToRedact(loaded)) warn(`${name} is shorter than ${MIN_SECRET_LENGTH} characters, so it is not redacted`);
 */
export function secretsTooShortToRedact(loaded: Pick<LoadedConfig, 'env' | 'secretNames'>): string[] {
  return loaded.secretNames
    .filter((name) => {
      const value = loaded.env[name];
      return value !== undefined && value !== '' && value.length < MIN_SECRET_LENGTH;
    })
    .sort();
}

export { MIN_SECRET_LENGTH };
