/**
 * Refuses literal credentials in config.yaml. config.yaml gets copied,
 * pasted into tickets and committed; secrets belong in `.env` or the environment and are
 * referenced as `${NAME}`.
 *
 * Runs on the raw document, before substitution, so a reference whose *value* is a token is
 * fine while a token typed into the file (or into a `${NAME:-default}`) is not. Findings name
 * the key path and line and never the value: the error message itself may end up in a log.
 * A key that is itself a credential is never printed either: the path names it
 * `<key on line N>` (see formatKeyPath in walk-yaml-scalars.ts).
 *
 * Rules (each tested in test/config/secret-lint*.test.ts):
 *
 * 1. Credential shapes, in any string value, mapping key, alias/anchor name or tag:
 *    Anthropic `sk-ant-`; OpenAI `sk-proj-`/`sk-svcacct-`/`sk-admin-` and legacy `sk-` + 32
 *    alphanumerics; Slack `xoxb-` `xoxp-` `xapp-` `xoxa-` `xoxr-` `xoxs-` `xoxe-`
 *    `xoxe.xoxp-` and incoming webhooks `hooks.slack.com/services|workflows|triggers/…`;
 *    GitHub `ghp_` `gho_` `ghs_` `ghu_` `ghr_` `github_pat_`; GitLab `glpat-`; Stripe
 *    `sk_live_` `rk_live_` `sk_test_` `rk_test_` `whsec_`; AWS `AKIA…`/`ASIA…` key ids;
 *    Google `AIza…` keys; npm `npm_…` tokens; JWTs (`eyJ…` `.` `…` `.` `…`); PEM private
 *    keys; and URLs with a password in their user info (`scheme://user:pass@host`,
 *    `redis://:pass@host`; `scheme://user@host` has no secret and passes).
 *    A value is judged with its `${NAME}` references taken out and its `${NAME:-default}`
 *    defaults put in, so `postgres://app:${DB_PASSWORD}@db/app` passes while
 *    `${TOKEN:-xoxb-…}` does not.
 *
 * 2. Secret-named keys must hold only `${NAME}` references (or nothing, or ""). Any other
 *    scalar is a literal: strings, `${NAME:-default}` with a non-empty default, and numbers
 *    and booleans too (`password: 123456`, `pin: 1234`). See {@link isSecretKeyName} for what
 *    counts as secret-named. Exceptions: a URL without user info, query or fragment, and (for
 *    the `*_key` family only) a file path such as `ssh_key: ~/.ssh/id_ed25519`.
 *
 * 3. An alias under a secret-named key whose anchor is not defined (`password: *Sup3r`: YAML
 *    reads a leading `*` as an alias) is refused here, because the YAML library's own error
 *    for it would print the name, i.e. the password.
 */
import { isAlias } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { ConfigError } from '../errors.ts';
import { tokenizeEnvString } from './substitute-env.ts';
import { formatKeyPath, keyNodeLines, nodeLine, walkYamlScalars, whereInFile } from './walk-yaml-scalars.ts';
import type { KeyPathSegment } from './walk-yaml-scalars.ts';

/** One literal credential found in the document. */
export interface SecretFinding {
  /** Key path, e.g. `adapter.slack.bot_token`; keys that look like credentials are masked. */
  path: string;
  line: number | undefined;
  /** Why it was flagged, in words; never contains the value. */
  reason: string;
}

/** No letter or digit right before: keeps words such as `task-ant-` from matching `sk-ant-`. */
const B = '(?<![A-Za-z0-9])';

/** Credential shapes, most specific first (the first match names the finding). */
export const CREDENTIAL_SHAPES: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/, what: 'a PEM private key' },
  // User info with a password; the password part must be typed in, not a ${NAME} (\0 below).
  { pattern: /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:]*:[^\s/?#@\u0000]+@/, what: 'a URL with a password in it (scheme://user:password@host)' },
  { pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9]/, what: 'a Slack webhook URL (hooks.slack.com/...)' },
  { pattern: new RegExp(`${B}sk-ant-`), what: 'an Anthropic API key (sk-ant-)' },
  { pattern: new RegExp(`${B}sk-(?:proj|svcacct|admin)-`), what: 'an OpenAI API key (sk-proj-)' },
  { pattern: new RegExp(`${B}sk-[A-Za-z0-9]{32,}(?![A-Za-z0-9])`), what: 'an OpenAI-style API key (sk-...)' },
  { pattern: new RegExp(`${B}xoxe\\.xox[a-z]-`), what: 'a Slack refresh token (xoxe.xoxp-)' },
  { pattern: new RegExp(`${B}xoxb-`), what: 'a Slack bot token (xoxb-)' },
  { pattern: new RegExp(`${B}xoxp-`), what: 'a Slack user token (xoxp-)' },
  { pattern: new RegExp(`${B}xapp-`), what: 'a Slack app-level token (xapp-)' },
  { pattern: new RegExp(`${B}xox[ar]-`), what: 'a Slack token (xoxa-/xoxr-)' },
  { pattern: new RegExp(`${B}xox[se]-`), what: 'a Slack token (xoxs-/xoxe-)' },
  { pattern: new RegExp(`${B}(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])`), what: 'an AWS access key id (AKIA...)' },
  { pattern: new RegExp(`${B}ghp_`), what: 'a GitHub token (ghp_)' },
  { pattern: new RegExp(`${B}gh[ousr]_`), what: 'a GitHub token (gho_/ghs_/ghu_/ghr_)' },
  { pattern: new RegExp(`${B}github_pat_`), what: 'a GitHub token (github_pat_)' },
  { pattern: new RegExp(`${B}glpat-`), what: 'a GitLab token (glpat-)' },
  { pattern: new RegExp(`${B}[sr]k_(?:live|test)_`), what: 'a Stripe key (sk_live_/rk_live_)' },
  { pattern: new RegExp(`${B}whsec_[A-Za-z0-9]`), what: 'a webhook signing secret (whsec_)' },
  { pattern: new RegExp(`${B}AIza[0-9A-Za-z_-]{35}`), what: 'a Google API key (AIza...)' },
  { pattern: new RegExp(`${B}npm_[A-Za-z0-9]{36}`), what: 'an npm token (npm_)' },
  { pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/, what: 'a JSON Web Token (eyJ...)' },
];

/** The first credential shape `text` contains, or undefined. */
export function credentialShape(text: string): string | undefined {
  return CREDENTIAL_SHAPES.find((s) => s.pattern.test(text))?.what;
}

/** Whether `text` contains a known credential shape anywhere. */
export function looksLikeCredential(text: string): boolean {
  return credentialShape(text) !== undefined;
}

// ---- secret-named keys -------------------------------------------------------------------

/** Words that name a secret wherever they stand in the key (`db_password_prod`). */
const SECRET_WORDS = new Set([
  'token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'passphrase', 'passcode', 'pwd',
  'credential', 'credentials', 'creds', 'dsn', 'authorization', 'bearer',
  'apikey', 'apikeys', 'privatekey', 'accesskey', 'secretkey', 'authkey', 'authtoken', 'accesstoken', 'refreshtoken', 'clientsecret',
]);
/** Short words that name a secret only as the key's last word (`db_pin`, `basic_auth`), not `pin_messages`. */
const HEAD_ONLY_WORDS = new Set(['pass', 'pin', 'pins', 'pincode', 'auth']);
/** Words after which `key` is a credential (`api_key`, `private_key`); a bare `key` is not. */
const KEY_QUALIFIERS = new Set([
  'api', 'private', 'access', 'secret', 'signing', 'encryption', 'master', 'license', 'licence', 'client', 'app', 'service',
  'account', 'ssh', 'deploy', 'auth', 'shared', 'webhook', 'hmac', 'session', 'root', 'admin', 'write', 'consumer',
  'subscription', 'integration', 'gpg', 'pgp', 'crypt', 'cipher', 'aes', 'rsa', 'ed25519',
]);
/** Words that may follow a head-only word or `key` without changing what the key holds (`pin_code`). */
const TRAILING_QUALIFIERS = new Set(['code', 'number', 'value', 'string', 'data', 'header', 'b64', 'base64', 'hex', 'raw', 'plain', 'plaintext']);
/** A last word that says the key describes a secret rather than holding it (`token_url`, `key_path`). */
const DESCRIPTOR_WORDS = new Set([
  'url', 'urls', 'uri', 'endpoint', 'host', 'hostname', 'port', 'path', 'paths', 'file', 'files', 'dir', 'directory',
  'name', 'names', 'id', 'ids', 'type', 'kind', 'method', 'mode', 'scheme', 'style', 'format', 'algorithm', 'alg', 'version',
  'env', 'var', 'variable', 'ref', 'field', 'param', 'prefix', 'suffix', 'length', 'len', 'size', 'ttl', 'timeout', 'expiry',
  'expires', 'lifetime', 'seconds', 'secs', 'ms', 'minutes', 'hours', 'days', 'interval', 'enabled', 'disabled', 'required',
  'policy', 'provider', 'source', 'location', 'command', 'cmd', 'helper', 'label', 'description', 'hint', 'pattern', 'regex',
  'user', 'username', 'login', 'email', 'audience', 'issuer', 'scope', 'scopes', 'realm', 'domain', 'region', 'fingerprint',
]);
/** Words anywhere that make the key a count or a budget (`max_tokens`, `tokens_per_turn`). */
const COUNT_WORDS = new Set(['max', 'min', 'num', 'per', 'count', 'budget', 'limit']);
/** First words that make the key a switch (`use_auth`, `require_password`). */
const FLAG_WORDS = new Set(['use', 'enable', 'enabled', 'disable', 'disabled', 'require', 'requires', 'required', 'skip', 'no', 'allow', 'is', 'has', 'should', 'with', 'without']);

/** `apiKey` → [api, key]; `DB_PASSWD` → [db, passwd]; `token2` → [token]. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .map((w) => w.replace(/(?<=[a-z])\d+$/, ''))
    .filter((w) => w !== '');
}

/**
 * Whether a key must hold only `${NAME}` references. The key is split into words
 * (snake_case, kebab-case, camelCase) and matched word by word, so `author`, `spinner`,
 * `pinned`, `keyboard`, `passthrough` and `tokenizer` are not secret-named. It is when:
 * - any word is a secret word: token(s), secret(s), password(s), passwd, passphrase, passcode,
 *   pwd, credential(s), creds, dsn, authorization, bearer, and one-word forms like apikey;
 * - or its last word (ignoring a trailing `code`/`value`/`header`/...) is `pass`, `pin` or
 *   `auth` (`db_pass`, `sim_pin`, `pin_code`, `basic_auth`; not `pin_messages`, `auth_method`);
 * - or that last word is `key`/`keys` right after a credential-ish word: api, private, access,
 *   secret, signing, encryption, master, client, ssh, deploy, webhook, hmac, ... (`api_key`,
 *   `access_key`, `secret_key`; not `key`, `key_path`, `primary_key`, `sort_key`).
 * It is not when its last word says it describes a secret (`token_url`, `password_file`,
 * `secret_name`, `api_key_env`, `auth_method`, `token_ttl`), when a word marks a count
 * (`max_tokens`, `tokens_per_turn`), or when the first word marks a switch (`use_auth`,
 * `require_password`, `enable_token_refresh`).
 */
export function isSecretKeyName(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0) return false;
  const last = words[words.length - 1]!;
  if (DESCRIPTOR_WORDS.has(last)) return false;
  if (words.some((w) => COUNT_WORDS.has(w))) return false;
  if (words.length > 1 && FLAG_WORDS.has(words[0]!)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  return isKeyFamily(words) || HEAD_ONLY_WORDS.has(headWord(words).word);
}

/** The last word that is not a trailing qualifier, and its index. */
function headWord(words: readonly string[]): { word: string; index: number } {
  let index = words.length - 1;
  while (index > 0 && TRAILING_QUALIFIERS.has(words[index]!)) index--;
  return { word: words[index]!, index };
}

/** `api_key`, `private_key`, `ssh_keys`: a credential-ish word, then `key` as the head. */
function isKeyFamily(words: readonly string[]): boolean {
  const head = headWord(words);
  return (head.word === 'key' || head.word === 'keys') && head.index > 0 && KEY_QUALIFIERS.has(words[head.index - 1]!);
}

// ---- the lint ----------------------------------------------------------------------------

/**
 * Find literal credentials in a raw (unsubstituted) config document. See the rules at the top
 * of this file; `${NAME:-default}` with a non-empty default counts as a literal, since the
 * default is typed into the file.
 */
export function findLiteralSecrets(doc: Document, lineCounter?: LineCounter): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const add = (path: readonly KeyPathSegment[], keyNodes: readonly (Node | undefined)[], at: Node, via: Node | undefined, reason: string): void => {
    const line = nodeLine(via ?? at, lineCounter);
    const anchorLine = via ? nodeLine(at, lineCounter) : undefined;
    const through = via ? ` (through an alias${anchorLine === undefined ? '' : ` of the value on line ${anchorLine}`})` : '';
    findings.push({ path: formatKeyPath(path, keyNodeLines(keyNodes, lineCounter)), line, reason: `${reason}${through}` });
  };

  walkYamlScalars(
    doc,
    ({ node, path, isKey, keyNodes, alias }) => {
      if (isKey) {
        if (node.value === null || typeof node.value === 'object') return;
        const shape = credentialShape(String(node.value));
        if (shape) add(path, keyNodes, node, alias, `is a key that looks like ${shape}`);
        return;
      }
      if (typeof node.value === 'string') {
        const shape = credentialShape(literalView(node.value));
        if (shape) {
          add(path, keyNodes, node, alias, `looks like ${shape}`);
          return;
        }
      }
      const keyName = nearestKeyName(path);
      // A key that is itself a credential was flagged already; its words mean nothing.
      if (keyName !== undefined && !looksLikeCredential(keyName) && isSecretKeyName(keyName) && holdsLiteral(node.value, keyName)) {
        add(path, keyNodes, node, alias, 'holds a literal value, but keys named like a secret must be a ${NAME} reference');
      }
    },
    {
      followAliases: true,
      onNode: ({ node, path, keyNodes, alias }) => {
        if (alias) return; // anchors and tags were judged where the anchored node is defined
        if (isAlias(node)) {
          const shape = credentialShape(node.source);
          if (shape) {
            add(path, keyNodes, node, undefined, `uses an alias whose name looks like ${shape}`);
            return;
          }
          const keyName = nearestKeyName(path);
          if (node.resolve(doc) === undefined && keyName !== undefined && isSecretKeyName(keyName)) {
            add(path, keyNodes, node, undefined, 'starts with * and so is read as an alias to an anchor that does not exist; if it is a secret, move it to .env and write ${NAME} here');
          }
          return;
        }
        const anchor = 'anchor' in node && typeof node.anchor === 'string' ? credentialShape(node.anchor) : undefined;
        if (anchor) add(path, keyNodes, node, undefined, `has an anchor (&name) that looks like ${anchor}`);
        const tag = typeof node.tag === 'string' && !node.tag.startsWith('tag:yaml.org,2002:') ? credentialShape(node.tag) : undefined;
        if (tag) add(path, keyNodes, node, undefined, `has a tag (!name) that looks like ${tag}`);
      },
    },
  );
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

// `$${` (a literal `${`) or a well-formed `${NAME}` / `${NAME:-default}`.
const REFERENCE_OR_ESCAPE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * The text as typed into the file: `${NAME}` becomes \0 (a character no shape matches, so a
 * reference never completes a shape), `${NAME:-default}` becomes its default and `$${` a
 * literal `${`. Malformed references are kept as typed, so a stray `${` cannot hide the rest of
 * the string from the lint.
 */
export function literalView(text: string): string {
  return text.replace(REFERENCE_OR_ESCAPE, (match: string, _name: string | undefined, fallback: string | undefined) =>
    match === '$${' ? '${' : fallback !== undefined ? fallback : '\u0000',
  );
}

/** Whether a value under a secret-named key contains anything typed into the file rather than referenced. */
function holdsLiteral(value: unknown, keyName: string): boolean {
  if (value === null || value === undefined) return false;
  // Numbers, booleans, binary, dates: typed into the file, so literals (`pin: 1234`).
  if (typeof value !== 'string') return true;
  let literal = '';
  for (const token of tokenizeEnvString(value)) {
    if (token.kind === 'text') literal += token.text;
    // A malformed reference is left to substitution, which reports it with a better message.
    else if (token.kind === 'reference' && token.fallback !== undefined) literal += token.fallback;
  }
  const trimmed = literal.trim();
  if (trimmed === '') return false;
  // A URL with no query or fragment, and no user info other than `user:${PASSWORD}@`, names a
  // place rather than holding a secret (`issuer: https://...`, `dsn: postgres://app:${PW}@db/app`).
  if (/^[a-z][a-z0-9+.-]*:\/\/(?:[^\s/?#@:]*:\u0000+@)?[^\s@?#]+$/i.test(literalView(value).trim())) return false;
  // `ssh_key: ~/.ssh/id_ed25519` points at the key rather than holding it.
  if (isKeyFamily(keyWords(keyName)) && /^(?:~|\.{1,2})?\/[^\s]*$/.test(trimmed) && !/^-----/.test(trimmed)) return false;
  return true;
}

