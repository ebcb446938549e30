/**
 * What the CLI prints about a failure goes through one redactor first. It knows the secrets of
 * every config a command loaded (loadFromOptions tells it) and the shapes of secrets, so an
 * error that quotes a value — a skill's start-up error, a URL with a password in it, JSON.parse
 * quoting the input it refused — never puts a secret on the terminal.
 */
import { Redactor } from '../security/redactor.ts';

const redactor = new Redactor();

/** Redact these values from every failure printed from now on. */
export function rememberSecrets(secrets: Iterable<string>): void {
  for (const secret of secrets) redactor.addSecret(secret);
}

/** `text` with the secrets this process knows of, and anything shaped like one, redacted. */
export function printable(text: string): string {
  return redactor.redact(text);
}
