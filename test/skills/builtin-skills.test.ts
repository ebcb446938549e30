/**
 * Built-in skills: loaded from the package's skills/ only when skills.builtin names them, a
 * project skill of the same name replaces one (and says so), an unknown name is an error, and
 * the package's own skills/ in skills.paths does not turn the built-ins on by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { BUILTIN_SKILL_NAMES, BUILTIN_SKILLS_DIR } from '../../src/skills/builtin-skills.ts';
import { parseSkillMd } from '../../src/skills/parse-skill-md.ts';
import { recordingLogger, silentLogger, skillMd, tempDir, writeFiles } from './skill-fixtures.ts';

const base = { defaultTimeoutMs: 60_000, logger: silentLogger };

test('every built-in is a folder of the package skills/ whose SKILL.md names it', () => {
  for (const name of BUILTIN_SKILL_NAMES) {
    const md = join(BUILTIN_SKILLS_DIR, name, 'SKILL.md');
    assert.ok(existsSync(md), `${md} exists`);
    assert.equal(parseSkillMd(readFileSync(md, 'utf8'), md).name, name);
    assert.ok(existsSync(join(BUILTIN_SKILLS_DIR, name, 'tools.ts')), `${name} has a tools.ts`);
  }
});

test('no built-in loads unless skills.builtin names it', async () => {
  const none = await loadSkills({ ...base, paths: [] });
  assert.deepEqual(none, { skills: [], errors: [] });
  const some = await loadSkills({ ...base, paths: [], builtin: ['memory'] });
  assert.deepEqual(some.errors, []);
  assert.deepEqual(some.skills.map((s) => [s.name, s.origin]), [['memory', 'builtin']]);
  assert.ok(some.skills[0]!.tools.some((t) => t.name === 'memory__write_file'));
});

test('an unknown built-in name is an error that lists the built-ins', async () => {
  const { skills, errors } = await loadSkills({ ...base, paths: [], builtin: ['memroy'] });
  assert.deepEqual(skills, []);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /skills\.builtin lists "memroy", which is not a built-in skill; the built-ins are http, kubernetes, memory, shell/);
});

test('a project skill named like a built-in replaces it, and the start says so', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { 'memory/SKILL.md': skillMd('memory', 'Our own memory skill.') });
  const { logger, records } = recordingLogger();
  const { skills, errors } = await loadSkills({ ...base, logger, paths: [root], builtin: ['memory'] });
  assert.deepEqual(errors, []);
  assert.deepEqual(skills.map((s) => [s.name, s.origin, s.description, s.overridesBuiltin]), [['memory', 'project', 'Our own memory skill.', true]]);
  assert.ok(records.some((r) => r.msg === 'skill.builtin_overridden' && r.skill === 'memory' && r.dir === join(root, 'memory')));
});

test('the package skills/ listed in skills.paths does not enable its built-ins', async () => {
  const { skills, errors } = await loadSkills({ ...base, paths: [BUILTIN_SKILLS_DIR], builtin: ['memory'] });
  assert.deepEqual(errors, []);
  assert.deepEqual(skills.filter((s) => BUILTIN_SKILL_NAMES.includes(s.name)).map((s) => [s.name, s.origin]), [['memory', 'builtin']]);
});
