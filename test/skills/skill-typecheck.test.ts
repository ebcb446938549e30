/**
 * Type errors in a TypeScript skill are found before Slack finds them: `file:line:col` and the
 * compiler's message, with `mithai` resolved to this runtime; a correct skill has none, and
 * the runtime's own files are never reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { typecheckSkills } from '../../src/skills/skill-typecheck.ts';
import { tempDir, writeFiles } from './skill-fixtures.ts';

const GOOD = `import { defineSkill, defineTool, z } from 'mithai';
export default defineSkill({
  tools: {
    get_pods: defineTool({
      description: 'List pods', human: 'auto', readOnly: true,
      input: z.object({ namespace: z.string() }),
      handle: async ({ namespace }, ctx) => ({ namespace, user: ctx.user }),
    }),
  },
});
`;

test('a correct skill type-checks clean; a wrong one is named by file, line and column', async (t) => {
  const root = tempDir(t);
  writeFiles(root, {
    'good/tools.ts': GOOD,
    // Line 7: a string input used as a number, and a ctx field that does not exist.
    'bad/tools.ts': GOOD.replace('({ namespace, user: ctx.user })', '({ n: namespace.toFixed(2), who: ctx.usr })'),
  });
  // One program for both, as `mithai skill validate` checks every skill at once.
  const result = typecheckSkills([join(root, 'good/tools.ts'), join(root, 'bad/tools.ts')], root);
  assert.ok(result.available);
  const bad = result;
  assert.ok(bad.diagnostics.every((d) => d.file === join(root, 'bad/tools.ts')), 'the correct skill has no diagnostics');
  const found = bad.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0]!, new RegExp(`^${join(root, 'bad/tools.ts')}:7:\\d+ Property 'toFixed' does not exist on type 'string'`));
  assert.match(found[1]!, /:7:\d+ Property 'usr' does not exist on type 'ToolContext'/);
});
