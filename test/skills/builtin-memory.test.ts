/**
 * The built-in memory skill, loaded as the runtime loads it and run against a real memory
 * folder: its levels (MEMORY.md needs approval, refused paths ask too), untrusted reads, and
 * the folder's guards reached through the tools.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { MemoryFiles } from '../../src/memory/memory-files.ts';
import { createTestToolContext } from '../../src/testing/index.ts';
import type { LoadedTool } from '../../src/skills/types.ts';
import { silentLogger, tempDir } from './skill-fixtures.ts';

async function memorySkill() {
  const { skills, errors } = await loadSkills({ paths: [], builtin: ['memory'], defaultTimeoutMs: 60_000, logger: silentLogger });
  assert.deepEqual(errors, []);
  const skill = skills[0]!;
  const tool = (name: string): LoadedTool => skill.tools.find((t) => t.localName === name)!;
  return { skill, tool };
}

test('declared levels: reads are auto, read-only and untrusted; writing is decided per path', async () => {
  const { skill, tool } = await memorySkill();
  assert.deepEqual(
    skill.tools.map((t) => [t.localName, t.declared, t.readOnly, t.untrustedOutput]),
    [
      ['list_files', 'auto', true, false],
      ['read_file', 'auto', true, true],
      ['search', 'auto', true, true],
      ['write_file', 'dynamic', false, false],
      ['append_note', 'auto', false, false],
    ],
  );
  const ctx = createTestToolContext();
  const level = (path: unknown) => skill.resolveHuman!('write_file', { path, content: 'x' }, ctx);
  assert.equal(await level('MEMORY.md'), 'approve');
  assert.equal(await level('memory.md'), 'approve', 'any letter case of MEMORY.md');
  assert.equal(await level('runbooks/db.md'), null);
  for (const refused of ['../MEMORY.md', 'approvals.json', 'daily/x.md', '.env', 42, undefined]) assert.equal(await level(refused), 'approve', String(refused));
  assert.ok(tool('write_file'));
});

test('tools write, search and read through the guarded memory folder', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'memory');
  mkdirSync(dir);
  writeFileSync(join(dir, 'approvals.json'), '{"audit":true}\n');
  writeFileSync(join(root, 'secret.txt'), 'outside');
  symlinkSync(join(root, 'secret.txt'), join(dir, 'link.md'));
  const memory = new MemoryFiles(dir, { redact: (s) => s.replaceAll('hunter2-pass', '[REDACTED]') });
  const ctx = createTestToolContext({ memory });
  const { tool } = await memorySkill();

  assert.equal(await tool('write_file').handle({ path: 'runbooks/db.md', content: 'Failover: run step 1.\npassword hunter2-pass\n' }, ctx), 'Wrote runbooks/db.md (44 characters).');
  assert.equal(readFileSync(join(dir, 'runbooks/db.md'), 'utf8'), 'Failover: run step 1.\npassword [REDACTED]\n');
  assert.equal(await tool('list_files').handle({}, ctx), 'runbooks/db.md');
  assert.equal(await tool('search').handle({ query: 'FAILOVER' }, ctx), 'runbooks/db.md:1: Failover: run step 1.');
  assert.equal(await tool('read_file').handle({ path: 'runbooks/db.md' }, ctx), 'Failover: run step 1.\npassword [REDACTED]\n');

  await assert.rejects(tool('read_file').handle({ path: 'approvals.json' }, ctx), /audit log/);
  await assert.rejects(tool('read_file').handle({ path: 'link.md' }, ctx), /symbolic link/);
  await assert.rejects(tool('write_file').handle({ path: 'daily/2026-01-01.md', content: 'forged' }, ctx), /only the runtime writes/);
  await assert.rejects(tool('write_file').handle({ path: '../escape.md', content: 'x' }, ctx), /refused/);
  assert.equal(readFileSync(join(dir, 'approvals.json'), 'utf8'), '{"audit":true}\n');
  assert.equal(readFileSync(join(root, 'secret.txt'), 'utf8'), 'outside');
});
