/**
 * Dependencies point one way (CONTRIBUTING.md, "Code layout"): cli → adapters → engine → (human, skills, llm, memory)
 * → (audit, state) → (security, config) → errors/clock. This test reads every import in src/ so
 * the layering cannot rot: value imports must point down (or stay in their area); `import type`
 * of a contract file (`types.ts`) is allowed across areas, since types carry no behaviour.
 * Provider SDKs stay at the edge: only adapters/slack and cli touch Slack, only llm touches
 * the Anthropic SDK, only state opens SQLite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');
const RANK: Record<string, number> = {
  'errors.ts': 0, 'clock.ts': 0, 'fault-point.ts': 0, 'keyed-waiters.ts': 0, 'bounded-map.ts': 0,
  config: 1, security: 1,
  audit: 2, state: 2,
  human: 3, skills: 3, llm: 3, memory: 3,
  engine: 4,
  adapters: 5,
  cli: 6,
  'index.ts': 4, testing: 4,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import { from: string; spec: string; typeOnly: boolean }

function imports(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
    out.push({ from: file, spec: m[3]!, typeOnly: Boolean(m[2]) });
  }
  for (const m of text.matchAll(/import\('([^']+)'\)/g)) out.push({ from: file, spec: m[1]!, typeOnly: false });
  return out;
}

const areaOf = (file: string): string => relative(SRC, file).split('/')[0]!;
const all = files(SRC).flatMap(imports);

test('value imports between areas of src/ point down the layers', () => {
  const violations: string[] = [];
  for (const imp of all) {
    if (!imp.spec.startsWith('.')) continue;
    const target = resolve(dirname(imp.from), imp.spec);
    const [fromArea, toArea] = [areaOf(imp.from), areaOf(target)];
    if (fromArea === toArea) continue;
    if (imp.typeOnly && target.endsWith('types.ts')) continue;
    const [a, b] = [RANK[fromArea], RANK[toArea]];
    assert.ok(a !== undefined && b !== undefined, `unknown area in ${relative(SRC, imp.from)} -> ${imp.spec}`);
    if (b >= a && !(imp.typeOnly && b === a)) violations.push(`${relative(SRC, imp.from)} imports ${relative(SRC, target)}`);
  }
  assert.deepEqual(violations, []);
});

test('only the Slack adapter and the CLI import Slack libraries', () => {
  const offenders = all.filter((i) => i.spec.startsWith('@slack/') && !/src\/(adapters\/slack|cli)\//.test(i.from));
  assert.deepEqual(offenders.map((i) => relative(SRC, i.from)), []);
});

test('only llm/ imports the Anthropic SDK', () => {
  const offenders = all.filter((i) => i.spec.startsWith('@anthropic-ai/') && !i.from.includes('/src/llm/'));
  assert.deepEqual(offenders.map((i) => relative(SRC, i.from)), []);
});

test('only state/ opens SQLite (others may use its types)', () => {
  const offenders = all.filter((i) => i.spec === 'better-sqlite3' && !i.typeOnly && !i.from.includes('/src/state/'));
  assert.deepEqual(offenders.map((i) => relative(SRC, i.from)), []);
});
