/**
 * Review: `memory.path` is not checked against the rest of the project. Pointed at the project
 * folder (`memory: { path: . }`), the memory tools read and — at `auto`, no approval — replace
 * `config.yaml` (a .yaml file) and skills' SKILL.md, so the model can rewrite its own policy
 * (add `shell` with any command, lower nothing but add tools) for the next start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

function project(t: { after(fn: () => void): void }, memoryPath: string, skillsPaths = '[./skills]'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-review-mempath-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'skills'));
  writeFileSync(join(dir, 'config.yaml'), `bot: { name: b }\nmemory:\n  path: ${memoryPath}\nskills:\n  paths: ${skillsPaths}\n`);
  writeFileSync(join(dir, '.env'), '');
  return join(dir, 'config.yaml');
}

test('memory.path may not hold config.yaml or a skills folder (the memory tools write there without approval)', (t) => {
  for (const [memoryPath, skills] of [['.', '[./skills]'], ['./', '[./skills]'], ['./memory', '[./memory/skills]']] as const) {
    assert.throws(() => loadConfig(project(t, memoryPath, skills), { env: {} }), (err: unknown) => err instanceof ConfigError && /memory\.path/.test(err.message), `memory.path ${memoryPath}, skills ${skills}`);
  }
  // The usual layout stays fine.
  assert.equal(loadConfig(project(t, './memory'), { env: {} }).config.memory.path.endsWith('memory'), true);
});
