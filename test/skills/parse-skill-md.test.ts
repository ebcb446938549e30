import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SkillError } from '../../src/errors.ts';
import { parseSkillMd } from '../../src/skills/parse-skill-md.ts';

describe('parseSkillMd', () => {
  test('reads name and description from the front matter and keeps the rest as instructions', () => {
    assert.deepEqual(parseSkillMd('---\nname: k8s\ndescription: " Kubernetes "\n---\n\n# Use it\nCheck pods.\n', 'SKILL.md'), {
      name: 'k8s',
      description: 'Kubernetes',
      instructions: '# Use it\nCheck pods.',
    });
  });

  test('accepts Windows line endings, a byte order mark and an empty front matter', () => {
    assert.deepEqual(parseSkillMd('\uFEFF---\r\nname: win\r\n---\r\nBody\r\n', 'SKILL.md'), { name: 'win', description: '', instructions: 'Body' });
    assert.deepEqual(parseSkillMd('---\n---\nBody', 'SKILL.md'), { name: undefined, description: '', instructions: 'Body' });
  });

  test('treats a file without front matter as instructions only, even with a later --- rule', () => {
    assert.deepEqual(parseSkillMd('Intro\n---\nMore', 'SKILL.md'), { name: undefined, description: '', instructions: 'Intro\n---\nMore' });
  });

  test('refuses front matter that is not a mapping or has non-string fields, naming the file', () => {
    for (const [text, message] of [
      ['---\n- a\n- b\n---\n', /must be a YAML mapping/],
      ['---\nname: 3\n---\n', /"name" must be a string, got number/],
      ['---\ndescription: [a]\n---\n', /"description" must be a string, got object/],
    ] as const) {
      assert.throws(() => parseSkillMd(text, '/skills/x/SKILL.md'), (err: unknown) => err instanceof SkillError && err.skillPath === '/skills/x/SKILL.md' && message.test(err.message));
    }
  });
});
