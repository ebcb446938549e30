/**
 * Refuses literal credentials in config.yaml (SECURITY-BASELINE §1). config.yaml gets copied,
 * pasted into tickets and committed; secrets belong in `.env` or the environment and are
 * referenced as `${NAME}`.
 *
 * Runs on the raw document, before substitution, so a reference whose *value* is a token is
 * fine while a token typed into the file (or into a `${NAME:-default}`) is not. Findings name
 * the key path and line and never the value: the error message itself may end up in a log.
 */
import type { Document, LineCounter } from 'yaml';
import { ConfigError } from '../errors.ts';
import { tokenizeEnvString } from './substitute-env.ts';
import { formatKeyPath, nodeLine, walkYamlScalars, whereInFile } from './walk-yaml-scalars.ts';
import type { KeyPathSegment } from './walk-yaml-scalars.ts';

/** One literal credential found in the document. */
export interface SecretFinding {
  /** Key path, e.g. `adapter.slack.bot_token`. */
  path: string;
  line: number | undefined;
  /** Why it was flagged, in words; never contains the value. */
  reason: string;
}

// A lookbehind keeps words such as `task-ant-` from matching `sk-ant-`.
const VALUE_PATTERNS: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /(?<![A-Za-z0-9])sk-ant-/, what: 'an Anthropic API key (sk-ant-)' },
  { pattern: /(?<![A-Za-z0-9])xoxb-/, what: 'a Slack bot token (xoxb-)' },
  { pattern: /(?<![A-Za-z0-9])xoxp-/, what: 'a Slack user token (xoxp-)' },
  { pattern: /(?<![A-Za-z0-9])xapp-/, what: 'a Slack app-level token (xapp-)' },
  { pattern: /(?<![A-Za-z0-9])xox[ar]-/, what: 'a Slack token (xoxa-/xoxr-)' },
  { pattern: /(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![0-9A-Z])/, what: 'an AWS access key id (AKIA...)' },
  { pattern: /(?<![A-Za-z0-9])ghp_/, what: 'a GitHub token (ghp_)' },
  { pattern: /(?<![A-Za-z0-9])github_pat_/, what: 'a GitHub token (github_pat_)' },
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, what: 'a PEM private key' },
];

/** Key names that must only ever hold a `${NAME}` reference. */
const SECRET_KEY_NAME = /token|secret|password|passwd|api[_-]?key|apikey|private[_-]?key|credential/i;

/**
 * Find literal credentials in a raw (unsubstituted) config document.
 *
 * Two rules:
 * - any string (value or key) containing a well-known credential shape;
 * - any string value under a key named like a secret (`*token*`, `*secret*`, `*password*`,
 *   `*api_key*`, `*private_key*`, `*credential*`) that is not made only of `${NAME}` references.
 *   A `${NAME:-default}` with a non-empty default counts as a literal, since the default is
 *   typed into the file. Empty strings pass, and so do literals that are plainly not
 *   credentials: numbers and booleans (`max_tokens: ${MAX_TOKENS:-4096}`) and plain http(s)
 *   URLs without user info or query (`token_url: https://auth.example.com/token`).
 */
export function findLiteralSecrets(doc: Document, lineCounter?: LineCounter): SecretFinding[] {
  const findings: SecretFinding[] = [];
  walkYamlScalars(doc, ({ node, path, isKey }) => {
    if (typeof node.value !== 'string') return;
    const text = node.value;
    const line = nodeLine(node, lineCounter);
    const keyPath = formatKeyPath(path);
    const shape = VALUE_PATTERNS.find((p) => p.pattern.test(text));
    if (shape) {
      findings.push({ path: keyPath, line, reason: `${isKey ? 'has a key that looks like' : 'looks like'} ${shape.what}` });
      return;
    }
    if (isKey) return;
    const keyName = nearestKeyName(path);
    if (keyName !== undefined && SECRET_KEY_NAME.test(keyName) && holdsLiteral(text)) {
      findings.push({ path: keyPath, line, reason: 'holds a literal value, but keys named like a secret must be a ${NAME} reference' });
    }
  }, { followAliases: true });
  return findings;
}

/**
 * Throw when {@link findLiteralSecrets} finds anything; all findings go into one error.
 *
 * @throws ConfigError (code `literal_secret`) listing key paths and lines, never values.
 */
export function lintSecrets(doc: Document, options: { file: string; lineCounter?: LineCounter }): void {
  const findings = findLiteralSecrets(doc, options.lineCounter);
  if (findings.length === 0) return;
  const lines = findings.map((f) => `  ${whereInFile(options.file, f.line)}: ${f.path} ${f.reason}`);
  throw new ConfigError(
    `${options.file} holds literal credentials; move each value to .env (next to ${options.file}) or the environment ` +
      `and write \${NAME} in its place:\n${lines.join('\n')}`,
    { code: 'literal_secret' },
  );
}

function nearestKeyName(path: readonly KeyPathSegment[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === 'string') return segment;
  }
  return undefined;
}

/** Whether a secret-named value contains anything typed into the file rather than referenced. */
function holdsLiteral(text: string): boolean {
  let literal = '';
  for (const token of tokenizeEnvString(text)) {
    if (token.kind === 'text') literal += token.text;
    // A malformed reference is left to substitution, which reports it with a better message.
    else if (token.kind === 'reference' && token.fallback !== undefined) literal += token.fallback;
  }
  const trimmed = literal.trim();
  if (trimmed === '') return false;
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed) || /^(true|false)$/i.test(trimmed)) return false;
  if (/^https?:\/\/[^\s@?#]+$/i.test(trimmed)) return false;
  return true;
}
