/**
 * A walk over every scalar of a parsed YAML document that knows where each one sits: its key
 * path (`adapter.slack.bot_token`, `skills.paths[0]`) and its line. Secret lint, `${VAR}`
 * substitution and config validation all report problems by key path and line, so they share
 * this one walk instead of each re-deriving positions.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Scalar } from 'yaml';

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
}

/**
 * Call `visit` for every scalar in `doc` (keys and values), depth first, in document order.
 * By default aliases are not followed: the anchored node is visited once, where it is defined,
 * so a visitor that edits values in place edits each node exactly once. With `followAliases`
 * an alias is visited again under the key path where it is used (the secret lint needs this:
 * `password: *anchor` must be judged as a password).
 */
export function walkYamlScalars(doc: Document, visit: (entry: YamlScalarVisit) => void, options: { followAliases?: boolean } = {}): void {
  walkNode(doc.contents, [], visit, options.followAliases ? doc : undefined, 0);
}

/** Deeper alias chains than this are not followed (YAML allows alias bombs). */
const MAX_ALIAS_DEPTH = 20;

function walkNode(node: unknown, path: KeyPathSegment[], visit: (entry: YamlScalarVisit) => void, aliasDoc: Document | undefined, depth: number): void {
  if (node === null || node === undefined) return;
  if (isAlias(node)) {
    if (aliasDoc && depth < MAX_ALIAS_DEPTH) walkNode(node.resolve(aliasDoc), path, visit, aliasDoc, depth + 1);
    return;
  }
  if (isScalar(node)) {
    visit({ node, path, isKey: false });
    return;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const segment = keySegment(pair.key);
      const childPath = [...path, segment];
      if (isScalar(pair.key)) visit({ node: pair.key, path: childPath, isKey: true });
      else walkNode(pair.key, childPath, visit, aliasDoc, depth);
      walkNode(pair.value, childPath, visit, aliasDoc, depth);
    }
    return;
  }
  if (isSeq(node)) {
    node.items.forEach((item, index) => walkNode(item, [...path, index], visit, aliasDoc, depth));
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
 */
export function formatKeyPath(path: readonly (KeyPathSegment | PropertyKey)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
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
