/**
 * `${NAME}` and `${NAME:-default}` substitution inside the string values of a parsed
 * config.yaml, anywhere in a string (`https://${HOST}/api`). `$${` is a literal `${`.
 *
 * Semantics follow the shell: `${NAME:-default}` uses the default when NAME is unset *or empty*;
 * `${NAME}` with NAME set to the empty string yields the empty string; `${NAME}` with NAME unset
 * is an error. Substituted values stay strings; the schema turns `"4096"` into a number where
 * a number is expected.
 *
 * The values taken from the environment (not defaults) are reported back, because they are the
 * secrets the redactor must know about.
 */
import type { Document, LineCounter } from 'yaml';
import { ConfigError } from '../errors.ts';
import { formatKeyPath, nodeLine, walkYamlScalars, whereInFile } from './walk-yaml-scalars.ts';

/** A piece of a string value: literal text, a `${...}` reference, or a broken reference. */
export type EnvToken =
  | { kind: 'text'; text: string }
  | { kind: 'reference'; name: string; fallback: string | undefined }
  | { kind: 'malformed' };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `$${` (escape), `${...}` (closed), or a bare `${` that never closes.
const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;

/**
 * Split a string into literal text and `${...}` references. `$${` becomes the literal text
 * `${`. A reference that does not close, or whose name is not `[A-Za-z_][A-Za-z0-9_]*`
 * (optionally followed by `:-default`), is a `malformed` token: we refuse to guess what the
 * operator meant rather than pass `${...}` through as a literal.
 */
export function tokenizeEnvString(text: string): EnvToken[] {
  const tokens: EnvToken[] = [];
  let last = 0;
  const pushText = (s: string): void => {
    if (s === '') return;
    const prev = tokens[tokens.length - 1];
    if (prev?.kind === 'text') prev.text += s;
    else tokens.push({ kind: 'text', text: s });
  };
  for (const match of text.matchAll(REFERENCE)) {
    pushText(text.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[0] === '$${') {
      pushText('${');
      continue;
    }
    const inner = match[1] ?? '';
    if (match[2] === undefined) {
      tokens.push({ kind: 'malformed' });
      continue;
    }
    const sep = inner.indexOf(':-');
    const name = sep === -1 ? inner : inner.slice(0, sep);
    if (!NAME.test(name)) tokens.push({ kind: 'malformed' });
    else tokens.push({ kind: 'reference', name, fallback: sep === -1 ? undefined : inner.slice(sep + 2) });
  }
  pushText(text.slice(last));
  return tokens;
}

/** A reference that could not be resolved. */
export type EnvProblem = { kind: 'unset'; name: string } | { kind: 'malformed' };

/** The outcome of expanding one string. */
export interface ExpandedString {
  value: string;
  /** Values that came from the environment (not from defaults). */
  fromEnv: string[];
  problems: EnvProblem[];
}

/** Expand every `${...}` in `text` against `env`. Never throws; problems are returned. */
export function expandEnvString(text: string, env: Readonly<Record<string, string | undefined>>): ExpandedString {
  let value = '';
  const fromEnv: string[] = [];
  const problems: EnvProblem[] = [];
  for (const token of tokenizeEnvString(text)) {
    if (token.kind === 'text') {
      value += token.text;
    } else if (token.kind === 'malformed') {
      problems.push({ kind: 'malformed' });
    } else {
      const found = Object.hasOwn(env, token.name) ? env[token.name] : undefined;
      if (token.fallback !== undefined && (found === undefined || found === '')) {
        value += token.fallback;
      } else if (found === undefined) {
        problems.push({ kind: 'unset', name: token.name });
      } else {
        value += found;
        fromEnv.push(found);
      }
    }
  }
  return { value, fromEnv, problems };
}

/**
 * Whether an environment value is worth treating as a secret for redaction: at least 8
 * characters and not a plain number or boolean (redacting every `4096` would wreck logs
 * without protecting anything).
 */
export function isSecretCandidate(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length < 8) return false;
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return false;
  if (/^(true|false|yes|no|on|off)$/i.test(trimmed)) return false;
  return true;
}

/** Options for {@link substituteEnv}. */
export interface SubstituteEnvOptions {
  /** Merged environment (real environment over `.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** File name used in error messages, e.g. `config.yaml`. */
  file: string;
  /** Line counter the document was parsed with, so errors can name lines. */
  lineCounter?: LineCounter;
}

/** What {@link substituteEnv} learned while substituting. */
export interface SubstituteEnvResult {
  /** Environment values that were substituted and look like secrets (see {@link isSecretCandidate}). */
  secretCandidates: string[];
}

/**
 * Substitute `${...}` references in every string value of `doc`, in place. Mapping keys are
 * left alone. All unresolved references are collected into one error, so the operator can fix
 * them in one go.
 *
 * @throws ConfigError (code `missing_env` when a variable is unset, else `config_invalid`)
 *   naming each variable, key path and line. Never includes a value.
 */
export function substituteEnv(doc: Document, options: SubstituteEnvOptions): SubstituteEnvResult {
  const candidates = new Set<string>();
  const messages: string[] = [];
  let hasUnset = false;
  walkYamlScalars(doc, ({ node, path, isKey }) => {
    if (isKey || typeof node.value !== 'string' || !node.value.includes('${')) return;
    const expanded = expandEnvString(node.value, options.env);
    const where = whereInFile(options.file, nodeLine(node, options.lineCounter));
    const key = formatKeyPath(path);
    for (const problem of expanded.problems) {
      if (problem.kind === 'unset') {
        hasUnset = true;
        messages.push(
          `${where}: ${key} refers to \${${problem.name}}, which is not set; put it in .env or the environment ` +
            `(or write \${${problem.name}:-} to allow it to be empty)`,
        );
      } else {
        messages.push(
          `${where}: ${key} has a malformed \${...} reference; write \${NAME} or \${NAME:-default} ` +
            `(NAME is letters, digits and _), or $\${ for a literal \${`,
        );
      }
    }
    if (expanded.problems.length === 0) {
      node.value = expanded.value;
      for (const v of expanded.fromEnv) if (isSecretCandidate(v)) candidates.add(v);
    }
  });
  if (messages.length > 0) {
    throw new ConfigError(messages.join('\n'), { code: hasUnset ? 'missing_env' : 'config_invalid' });
  }
  return { secretCandidates: [...candidates] };
}
