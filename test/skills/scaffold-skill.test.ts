import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkillError } from '../../src/errors.ts';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { scaffoldSkill } from '../../src/skills/scaffold-skill.ts';
import { SkillRegistry } from '../../src/skills/skill-registry.ts';
import { createTestToolContext } from '../../src/testing/index.ts';
import { silentLogger, tempDir } from './skill-fixtures.ts';

describe('scaffoldSkill', () => {
  test('writes SKILL.md and tools.ts named after the skill and returns their paths', (t) => {
    const root = tempDir(t);
    const written = scaffoldSkill(join(root, 'skills'), 'billing');
    assert.deepEqual(written, [join(root, 'skills', 'billing', 'SKILL.md'), join(root, 'skills', 'billing', 'tools.ts'), join(root, 'tsconfig.json')]);
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[]; compilerOptions: { paths: Record<string, string[]> } };
    assert.deepEqual(tsconfig.include, ['skills/**/*.ts']);
    assert.ok(existsSync(tsconfig.compilerOptions.paths.mithai![0]!), 'mithai resolves to this runtime');
    assert.match(readFileSync(written[1]!, 'utf8'), /defineTool\(\{/, 'the template uses defineTool, as the README does');
    // A second skill leaves the project's tsconfig.json alone.
    writeFileSync(join(root, 'tsconfig.json'), '{"mine": true}');
    assert.equal(scaffoldSkill(join(root, 'skills'), 'other').length, 2);
    assert.equal(readFileSync(join(root, 'tsconfig.json'), 'utf8'), '{"mine": true}');
    const md = readFileSync(written[0]!, 'utf8');
    assert.match(md, /^---\nname: billing\n/);
    assert.match(md, /billing__get_status/);
    assert.doesNotMatch(md + readFileSync(written[1]!, 'utf8'), /\{\{name\}\}/);
  });

  test('writes a skill that loads, validates and runs with one auto read-only tool and one approve tool', async (t) => {
    const root = tempDir(t);
    scaffoldSkill(join(root, 'skills'), 'payments');
    const { skills, errors } = await loadSkills({ paths: [join(root, 'skills')], defaultTimeoutMs: 5000, logger: silentLogger });
    assert.deepEqual(errors, []);
    const registry = new SkillRegistry(skills);
    assert.deepEqual(registry.tools().map((tool) => [tool.name, tool.declared, tool.readOnly]), [
      ['payments__get_status', 'auto', true],
      ['payments__restart', 'approve', false],
    ]);
    const { signal: _signal, ...ctx } = createTestToolContext();
    const restart = registry.get('payments__restart')!;
    assert.deepEqual(await registry.invoke(restart, { service: '' }, ctx), { status: 'invalid_input', error: 'service: Too small: expected string to have >=1 characters' });
    assert.deepEqual(await registry.invoke(restart, { service: 'api' }, ctx), { status: 'succeeded', output: 'api restarted' });
    const status = await registry.invoke(registry.get('payments__get_status')!, { service: 'api' }, ctx);
    assert.deepEqual(status.status === 'succeeded' && JSON.parse(status.output), { service: 'api', status: 'running', restarts: 1 });
  });

  test('refuses an invalid skill name and writes nothing', (t) => {
    const root = tempDir(t);
    for (const name of ['Bad', 'a__b', '../escape', '']) {
      assert.throws(() => scaffoldSkill(join(root, 'skills'), name), (err: unknown) => err instanceof SkillError && err.code === 'skill_name_invalid');
    }
    assert.equal(existsSync(join(root, 'skills', 'Bad')), false);
  });

  test('refuses an existing folder unless forced, and keeps other files when forced', (t) => {
    const root = tempDir(t);
    const [mdPath] = scaffoldSkill(join(root, 'skills'), 'ops');
    writeFileSync(mdPath!, 'edited');
    writeFileSync(join(root, 'skills', 'ops', 'notes.txt'), 'keep me');
    assert.throws(() => scaffoldSkill(join(root, 'skills'), 'ops'), (err: unknown) => err instanceof SkillError && err.code === 'skill_exists');
    assert.equal(readFileSync(mdPath!, 'utf8'), 'edited');
    scaffoldSkill(join(root, 'skills'), 'ops', { force: true });
    assert.match(readFileSync(mdPath!, 'utf8'), /name: ops/);
    assert.equal(readFileSync(join(root, 'skills', 'ops', 'notes.txt'), 'utf8'), 'keep me');
  });
});
