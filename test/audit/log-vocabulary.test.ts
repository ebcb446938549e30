/**
 * One log vocabulary across src/ (issue #15): every log line's message is an event name,
 * `area.past_tense` (`approval.decided`, `slack.message_ignored`), and every field is
 * snake_case (`approval_id`, `call_id`, `session`, `turn_id`), with the human detail in a field
 * (`reason`, `detail`) rather than in the message. That is what lets one query
 * (`approval_id = "A1"`, `msg = "approval.decided"`) find everything about one approval. This
 * test parses every file in src/ and in the built-in skills (skills/, which log through the same
 * logger) and fails on a logger call that leaves the vocabulary, so it cannot drift: a sentence,
 * an interpolated message, a camelCase field.
 *
 * A logger call is `<something named *log*>.<level>(...)` or `<…log…>[level](...)`; its field
 * object (the first argument, and the bindings of `.child(...)`) must be an object literal whose
 * keys, nested ones included, are snake_case. A spread of a local `const` object literal is
 * checked through its declaration; a computed key must be typed by the code itself (the one in
 * organisation.ts is `'user' | 'channel'`), so it is left to the type checker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve('src');
const ROOTS = [SRC, resolve('skills')];
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const EVENT = /^[a-z_]+\.[a-z_]+$/;
const FIELD = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface LogCall {
  where: string;
  method: string;
  args: readonly ts.Expression[];
}

/** The logger calls in one file (`x.log.warn(...)`, `log[level](...)`, `logger.child(...)`). */
function logCalls(file: string, source: ts.SourceFile): LogCall[] {
  const out: LogCall[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      let target: ts.Expression | undefined;
      let method: string | undefined;
      if (ts.isPropertyAccessExpression(callee) && (LEVELS.has(callee.name.text) || callee.name.text === 'child')) {
        target = callee.expression;
        method = callee.name.text;
      } else if (ts.isElementAccessExpression(callee) && !ts.isStringLiteral(callee.argumentExpression)) {
        target = callee.expression;
        method = 'level';
      }
      if (target !== undefined && method !== undefined && /log/i.test(target.getText(source)) && !/^console\b/.test(target.getText(source))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        out.push({ where: `${relative(resolve('.'), file)}:${line + 1}`, method, args: node.arguments });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The non-snake_case keys of an object literal (nested literals and local spreads included). */
function badKeys(object: ts.ObjectLiteralExpression, source: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const property of object.properties) {
    if (ts.isSpreadAssignment(property)) {
      const init = localObjectLiteral(property.expression, source);
      if (init !== undefined) out.push(...badKeys(init, source));
      continue;
    }
    const name = property.name;
    if (name === undefined || ts.isComputedPropertyName(name)) continue;
    const text = ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) ? name.text : name.getText(source);
    if (!FIELD.test(text)) out.push(text);
    if (ts.isPropertyAssignment(property)) {
      const value = unwrap(property.initializer);
      if (ts.isObjectLiteralExpression(value)) out.push(...badKeys(value, source));
    }
  }
  return out;
}

/** The object literal a spread identifier was declared with (`const ids = { … }`), if any. */
function localObjectLiteral(expression: ts.Expression, source: ts.SourceFile): ts.ObjectLiteralExpression | undefined {
  const inner = unwrap(expression);
  if (ts.isObjectLiteralExpression(inner)) return inner;
  if (!ts.isIdentifier(inner)) return undefined;
  let found: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === inner.text && node.initializer !== undefined) {
      const init = unwrap(node.initializer);
      if (ts.isObjectLiteralExpression(init)) found = init;
    }
    if (found === undefined) ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function unwrap(expression: ts.Expression): ts.Expression {
  let e = expression;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isConditionalExpression(e)) {
    e = ts.isConditionalExpression(e) ? (ts.isObjectLiteralExpression(unwrap(e.whenTrue)) ? e.whenTrue : e.whenFalse) : e.expression;
  }
  return e;
}

function isStringish(e: ts.Expression): boolean {
  return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e);
}

/** What is wrong with one call, if anything. */
function problems(call: LogCall, source: ts.SourceFile): string[] {
  const out: string[] = [];
  const [first, second] = call.args;
  const fields = first !== undefined && !isStringish(first) ? first : undefined;
  if (fields !== undefined) {
    const object = localObjectLiteral(fields, source);
    if (object === undefined) out.push(`fields are not an object literal: ${fields.getText(source)}`);
    else for (const key of badKeys(object, source)) out.push(`field "${key}" is not snake_case`);
  }
  if (call.method === 'child') return out;
  const message = fields === undefined ? first : second;
  if (message === undefined) out.push('no event name');
  else if (!(ts.isStringLiteral(message) || ts.isNoSubstitutionTemplateLiteral(message))) out.push(`event name is not a string literal: ${message.getText(source)}`);
  else if (!EVENT.test(message.text)) out.push(`event name "${message.text}" is not area.past_tense`);
  if (call.args.length > (fields === undefined ? 1 : 2)) out.push('extra arguments (pino would interpolate them into the event name)');
  return out;
}

const sources = ROOTS.flatMap(files).map((file) => ({ file, source: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true) }));
const calls = sources.flatMap(({ file, source }) => logCalls(file, source).map((call) => ({ call, source })));

test('every log line in src/ and the built-in skills is an area.past_tense event with snake_case fields', () => {
  const violations = calls.flatMap(({ call, source }) => problems(call, source).map((p) => `${call.where}: ${p}`));
  assert.deepEqual(violations, []);
});

// Guards the guard: a scan that silently found nothing would pass forever.
test('the vocabulary scan sees the logger calls of src/', () => {
  const names = calls.map(({ call, source }) => call.args.find((a) => ts.isStringLiteral(a))?.getText(source));
  assert.ok(calls.length > 100, `only ${calls.length} logger calls found`);
  for (const known of ["'approval.decided'", "'approval.requested'", "'turn.finished'", "'slack.stopped'", "'shell.command_started'"]) assert.ok(names.includes(known), `${known} not found`);
});

test('the vocabulary check refuses a sentence, an interpolated message and a camelCase field', () => {
  const sample = ts.createSourceFile(
    'sample.ts',
    "logger.warn({ approvalId: id }, 'could not post');\nthis.#o.logger.info(`connected as ${name}`);\nlog.child({ turnId: 1 });\nlogger.info({ approval_id: id, nested: { call_id: 1 } }, 'approval.decided');",
    ts.ScriptTarget.Latest,
    true,
  );
  const found = logCalls(join(SRC, 'sample.ts'), sample).map((call) => problems(call, sample));
  assert.deepEqual(found, [
    ['field "approvalId" is not snake_case', 'event name "could not post" is not area.past_tense'],
    ['event name is not a string literal: `connected as ${name}`'],
    ['field "turnId" is not snake_case'],
    [],
  ]);
});
