/**
 * A walk over every scalar of a parsed YAML document that knows where each one sits: its key
 * path (`adapter.slack.bot_token`, `skills.paths[0]`) and its line. Secret lint, `${VAR}`
 * substitution and config validation all report problems by key path and line, so they share
 * this one walk instead of each re-deriving positions.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Alias, Document, LineCounter, Node, Scalar } from 'yaml';
import { looksLikeCredential } from './secret-lint.ts';

/** One segment of a key path: a mapping key or a list index. */
export type KeyPathSegment = string | number;

/** What {@link walkYamlScalars} hands the visitor for each scalar. */
export interface YamlScalarVisit {
  /** The scalar node itself; the visitor may change `node.value`. */
  node: Scalar;
  /** Key path of the value (for a key, the path of the entry it names). */
  path: readonly KeyPathSegment[];
  /** True when the scalar is a mapping key rather than a value. */
  isKey: boolean;
  /**
   * The key node behind each segment of `path` (undefined for list indexes and complex keys),
   * so a report can say `<key on line 12>` instead of printing a key that is itself a secret.
   */
  keyNodes: readonly (Node | undefined)[];
  /** With `followAliases`: the outermost alias this scalar was reached through, if any. */
  alias?: Alias;
}

/** What {@link walkYamlScalars} hands `onNode` for every node, collections and aliases included. */
export interface YamlNodeVisit {
  node: Node;
  path: readonly KeyPathSegment[];
  keyNodes: readonly (Node | undefined)[];
  /** The outermost alias the node was reached through, if any. */
  alias?: Alias;
}

/** Options for {@link walkYamlScalars}. */
export interface WalkYamlOptions {
  /** Visit aliased nodes again where they are used (see {@link walkYamlScalars}). */
  followAliases?: boolean;
  /** Called for every node (scalars, keys, maps, lists, aliases) before it is descended into. */
  onNode?: (entry: YamlNodeVisit) => void;
}

/**
 * Call `visit` for every scalar in `doc` (keys and values), depth first, in document order.
 * By default aliases are not followed: the anchored node is visited once, where it is defined,
 * so a visitor that edits values in place edits each node exactly once. With `followAliases`
 * an alias is visited again under the key path where it is used (the secret lint needs this:
 * `password: *anchor` must be judged as a password).
 */
export function walkYamlScalars(doc: Document, visit: (entry: YamlScalarVisit) => void, options: WalkYamlOptions = {}): void {
  walkNode(doc.contents, { path: [], keyNodes: [], alias: undefined }, visit, { aliasDoc: options.followAliases ? doc : undefined, onNode: options.onNode }, 0);
}

/** Deeper alias chains than this are not followed (YAML allows alias bombs). */
const MAX_ALIAS_DEPTH = 20;

interface WalkPosition {
  path: KeyPathSegment[];
  keyNodes: (Node | undefined)[];
  alias: Alias | undefined;
}

interface WalkSettings {
  aliasDoc: Document | undefined;
  onNode: ((entry: YamlNodeVisit) => void) | undefined;
}

function walkNode(node: unknown, at: WalkPosition, visit: (entry: YamlScalarVisit) => void, settings: WalkSettings, depth: number): void {
  if (node === null || node === undefined) return;
  if (isAlias(node) || isScalar(node) || isMap(node) || isSeq(node)) settings.onNode?.({ node, path: at.path, keyNodes: at.keyNodes, alias: at.alias });
  if (isAlias(node)) {
    if (settings.aliasDoc && depth < MAX_ALIAS_DEPTH) walkNode(node.resolve(settings.aliasDoc), { ...at, alias: at.alias ?? node }, visit, settings, depth + 1);
    return;
  }
  if (isScalar(node)) {
    visit({ node, path: at.path, isKey: false, keyNodes: at.keyNodes, alias: at.alias });
    return;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const segment = keySegment(pair.key);
      const child: WalkPosition = {
        path: [...at.path, segment],
        keyNodes: [...at.keyNodes, isScalar(pair.key) ? pair.key : undefined],
        alias: at.alias,
      };
      if (isScalar(pair.key)) {
        settings.onNode?.({ node: pair.key, path: child.path, keyNodes: child.keyNodes, alias: at.alias });
        visit({ node: pair.key, path: child.path, isKey: true, keyNodes: child.keyNodes, alias: at.alias });
      } else walkNode(pair.key, child, visit, settings, depth);
      walkNode(pair.value, child, visit, settings, depth);
    }
    return;
  }
  if (isSeq(node)) {
    node.items.forEach((item, index) => walkNode(item, { path: [...at.path, index], keyNodes: [...at.keyNodes, undefined], alias: at.alias }, visit, settings, depth));
  }
}

/** The path segment a mapping key stands for (complex keys are stringified). */
export function keySegment(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/**
 * Render a key path the way an operator reads config.yaml: `adapter.slack.bot_token`,
 * `skills.paths[0]`. The empty path is the document root.
 *
 * A key that itself looks like a credential (see {@link looksLikeCredential}, or a long random
 * looking string) is never printed: it becomes `<key on line 12>` when `keyLines` gives its
 * line, else `<key that looks like a credential>`. Every error path that names a key goes
 * through here, so a token pasted as a mapping key cannot reach a message this way.
 */
export function formatKeyPath(path: readonly (KeyPathSegment | PropertyKey)[], keyLines?: readonly (number | undefined)[]): string {
  let out = '';
  path.forEach((segment, index) => {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      return;
    }
    let text = String(segment);
    if (mustNotPrintKey(text)) {
      const line = keyLines?.[index];
      text = line === undefined ? '<key that looks like a credential>' : `<key on line ${line}>`;
    }
    out += out === '' ? text : `.${text}`;
  });
  return out === '' ? '(top level)' : out;
}

/** The lines of the key nodes a visit reports, for {@link formatKeyPath}. */
export function keyNodeLines(keyNodes: readonly (Node | undefined)[], lineCounter: LineCounter | undefined): (number | undefined)[] {
  return keyNodes.map((node) => nodeLine(node, lineCounter));
}

/**
 * Whether a mapping key must be left out of messages: it matches a credential shape, or it is
 * a long unbroken run of token characters with letters and digits mixed (a hash, a random
 * token of unknown make). Masking a harmless key costs only readability, so this errs wide.
 */
export function mustNotPrintKey(key: string): boolean {
  if (looksLikeCredential(key)) return true;
  if (!/^[A-Za-z0-9+/=_.:-]{20,}$/.test(key) || !/\d/.test(key) || !/[A-Za-z]/.test(key)) return false;
  return (/[a-z]/.test(key) && /[A-Z]/.test(key)) || key.length >= 32 || (key.match(/\d/g)?.length ?? 0) >= 6;
}

/** The 1-based line where `node` starts, or undefined when it has no source position. */
export function nodeLine(node: Node | null | undefined, lineCounter: LineCounter | undefined): number | undefined {
  if (!node || !lineCounter || !node.range) return undefined;
  return lineCounter.linePos(node.range[0]).line;
}

/** `config.yaml line 7` when the line is known, else `config.yaml`. */
export function whereInFile(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file} line ${line}`;
}
