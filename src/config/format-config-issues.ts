/**
 * Turns zod validation issues into the lines an operator reads:
 * `config.yaml line 12: human.timeout_seconds: expected a positive number`.
 * zod's own messages ("Invalid input: expected number, received string") are written for
 * developers; these name the key, the line when the node can be found, and what to write.
 * Values are never echoed: after substitution any value may be a secret. Nor are keys that
 * look like credentials (`<key on line 12>` instead, see formatKeyPath): an unknown key or a
 * bad `human.overrides` key may be a token pasted in the wrong place.
 */
import { isMap, isPair, isScalar } from 'yaml';
import type { Document, LineCounter, Node, YAMLError } from 'yaml';
import type { z } from 'zod';
import { nearestName } from './nearest-name.ts';
import { knownKeysAt } from './schema-keys.ts';
import { looksLikeCredential } from './secret-lint.ts';
import { formatKeyPath, nodeLine, whereInFile } from './walk-yaml-scalars.ts';

type Issue = z.core.$ZodIssue;

/** Where to look up lines for issue paths. */
export interface IssueContext {
  file: string;
  doc?: Document;
  lineCounter?: LineCounter;
  /** The data that was validated, to say what was found instead. */
  data?: unknown;
  /** The schema that was applied, so an unknown key can name the nearest known one. */
  schema?: z.ZodType;
}

/**
 * One operator-facing line per problem (an issue naming several unknown keys gives several),
 * in file order so the operator can walk down the file fixing them.
 */
export function formatConfigIssues(issues: readonly Issue[], context: IssueContext): string[] {
  const lines: Array<{ line: number | undefined; text: string }> = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const line = nodeLine(findKeyNode(context.doc, path, key), context.lineCounter);
        const keyLines = [...keyLinesAlong(context, path), line];
        // The suggestion is a key of the schema, never text from the file.
        const suggestion = context.schema === undefined ? undefined : nearestName(key, knownKeysAt(context.schema, path));
        const hint = suggestion === undefined ? '' : ` — did you mean ${suggestion}?`;
        lines.push({ line, text: `${whereInFile(context.file, line)}: ${formatKeyPath([...path, key], keyLines)}: unknown key${hint}` });
      }
      continue;
    }
    const line = nodeLine(findValueNode(context.doc, path), context.lineCounter);
    const where = `${whereInFile(context.file, line)}: ${formatKeyPath(path, keyLinesAlong(context, path))}`;
    lines.push({ line, text: `${where}: ${describeIssue(issue, valueAt(context.data, path))}` });
  }
  // Array.prototype.sort is stable, so issues without a line keep zod's order, at the end.
  return lines.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity)).map((l) => l.text);
}

function describeIssue(issue: Issue, found: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (found === null || found === undefined) return `has no value; give it ${article(issue.expected)} or remove the key to use the default`;
      return `expected ${article(issue.expected)}, found ${kindOf(found)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        if (min === 0 && !issue.inclusive) return 'expected a positive number';
        return `expected a number ${issue.inclusive ? '>=' : '>'} ${min}`;
      }
      if (issue.origin === 'string') return min <= 1 ? 'must not be empty' : `expected at least ${min} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at least ${min} entries`;
      return issue.message;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') return `expected a number ${issue.inclusive ? '<=' : '<'} ${max}`;
      if (issue.origin === 'string') return `expected at most ${max} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at most ${max} entries`;
      return issue.message;
    }
    case 'invalid_value':
      return `expected one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return 'expected a URL such as https://example.com/';
      // Custom regex messages in the schema are already written for operators.
      return issue.message.startsWith('Invalid') ? `has the wrong format (${issue.format})` : issue.message;
    case 'invalid_key': {
      const inner = issue.issues[0];
      return `invalid key: ${inner && !inner.message.startsWith('Invalid') ? inner.message : 'not allowed here'}`;
    }
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'string':
      return 'text';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping (key: value pairs)';
    default:
      return expected;
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a fractional number';
  if (typeof value === 'boolean') return 'true/false';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function findValueNode(doc: Document | undefined, path: readonly (string | number)[]): Node | undefined {
  if (!doc) return undefined;
  for (let depth = path.length; depth >= 0; depth--) {
    // Fall back to the nearest ancestor that exists, so a bad list item still gets a line.
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

/** The line of the key node behind each segment of `path` (undefined for list indexes). */
function keyLinesAlong(context: IssueContext, path: readonly (string | number)[]): (number | undefined)[] {
  const lines: (number | undefined)[] = [];
  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth]!;
    lines.push(typeof segment === 'number' ? undefined : nodeLine(findKeyNode(context.doc, path.slice(0, depth), segment), context.lineCounter));
  }
  return lines;
}

function findKeyNode(doc: Document | undefined, mapPath: readonly (string | number)[], key: string): Node | undefined {
  if (!doc) return undefined;
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key) return pair.key;
  }
  return undefined;
}

/**
 * Messages of the YAML library that quote the source after a fixed phrase; only the phrase is
 * kept. (`Block scalar header includes extra characters: |hunter2`, `Could not resolve tag:
 * !x!secret`, `Unsupported YAML version <text>`, `Ordered maps must not include duplicate
 * keys: <key>`, `Invalid escape sequence \U<8 chars>` ...)
 */
const QUOTING_MESSAGES: readonly RegExp[] = [
  /^Block scalar header includes extra characters/,
  /^Could not resolve tag/,
  /^Unresolved tag/,
  /^Not a valid tag/,
  /^Verbatim tags aren't resolved/,
  /^The .* tag has no suffix/,
  /^Unknown directive/,
  /^Unsupported YAML version/,
  /^Ordered maps must not include duplicate keys/,
  /^Invalid escape sequence/,
  /^Unresolved plain scalar/,
  /^Unresolved alias/,
  /^Expected a flow scalar value, but found/,
];

/**
 * One operator line per YAML syntax error: `config.yaml line 4: Missing closing "quote`.
 * The library's pretty message carries a source excerpt on the following lines, and some
 * messages quote source text after the phrase (see {@link QUOTING_MESSAGES}); neither is kept,
 * since the line may hold a secret. As a last guard a message that still contains a credential
 * shape is replaced as a whole.
 */
export function formatYamlErrors(errors: readonly YAMLError[], file: string): string[] {
  return errors.map((e) => {
    const line = e.linePos?.[0]?.line;
    let message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const quoting = QUOTING_MESSAGES.find((re) => re.test(message));
    if (quoting) message = message.match(quoting)![0].replace(/^The .* tag has no suffix$/, 'A tag has no suffix');
    if (looksLikeCredential(message)) message = `YAML syntax error (${e.code})`;
    return `${whereInFile(file, line)}: ${message}`;
  });
}
