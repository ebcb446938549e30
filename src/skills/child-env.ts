/**
 * The environment a tool's child process gets: the runtime's own, with every credential taken
 * out. A command the model asked for must not inherit the Slack tokens, the Anthropic key, a
 * cloud provider's keys or anything else that only the runtime needs.
 *
 * A variable is removed when any of these holds:
 * - its name is secret-named (`*TOKEN*`, `*SECRET*`, `*PASS*`, `*KEY*`, `*AUTH*`, `*DSN*`, …;
 *   the same rule the config uses, {@link isSecretVariableName});
 * - it belongs to a credential family ({@link CREDENTIAL_PREFIXES}: `AWS_*`, `GOOGLE_*`,
 *   `SLACK_*`, `ANTHROPIC_*`, `GITHUB_*`, `VAULT_*`, …), paths to credential files included;
 * - its value is a secret the runtime knows (`isKnownSecret`), whatever the name.
 */
import { isSecretVariableName } from '../config/load-config.ts';

/** Name prefixes of variables that hold or point at cloud and service credentials. */
const CREDENTIAL_PREFIXES = ['AWS_', 'AZURE_', 'ARM_', 'GOOGLE_', 'GCLOUD_', 'CLOUDSDK_', 'SLACK_', 'ANTHROPIC_', 'OPENAI_', 'GITHUB_', 'GH_', 'GITLAB_', 'VAULT_', 'NPM_', 'DOCKER_', 'MITHAI_'];

/** Whether a variable of this name and value may be passed on to a child process. */
export function isSafeChildVariable(name: string, value: string, isKnownSecret: (value: string) => boolean): boolean {
  const upper = name.toUpperCase();
  if (CREDENTIAL_PREFIXES.some((prefix) => upper.startsWith(prefix))) return false;
  if (isSecretVariableName(name)) return false;
  return !isKnownSecret(value);
}

/**
 * `env` without its credentials (see the module comment). Never mutates `env`.
 * @param isKnownSecret true for a value the runtime redacts (a resolved secret)
 */
export function childEnv(env: Readonly<Record<string, string | undefined>>, isKnownSecret: (value: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && isSafeChildVariable(name, value, isKnownSecret)) out[name] = value;
  }
  return out;
}
