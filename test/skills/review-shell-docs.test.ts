/**
 * Review finding (docs): the shell section's own example config was refused by the skill.
 * `read_only_commands: [journalctl]` is not within `[journalctl, -u, "*"]` (a read-only prefix
 * must be at least as long as the allowed entry it falls under), so an operator who copied the
 * example got `shell.config_invalid` and every command refused. The example in the header of
 * skills/shell/config.ts had the same mistake (`[journalctl]`, and `[df]` under the exact
 * `[df, -h]`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseShellConfig } from '../../skills/shell/config.ts';

function yamlBlocks(text: string): string[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('the shell example config in docs/skills.md is one the skill accepts', () => {
  const docs = readFileSync('docs/skills.md', 'utf8');
  const section = docs.slice(docs.indexOf('### shell'), docs.indexOf('### memory'));
  const [block] = yamlBlocks(section);
  assert.ok(block, 'the shell section has a yaml example');
  const shell = (parse(block) as { skills: { config: { shell: unknown } } }).skills.config.shell;
  assert.doesNotThrow(() => parseShellConfig(shell));
});

test('the example in the header of skills/shell/config.ts is one the skill accepts', () => {
  const source = readFileSync('skills/shell/config.ts', 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(source)![1]!.replace(/^ \* ?/gm, '');
  const shell = (parse(block) as { skills: { config: { shell: unknown } } }).skills.config.shell;
  assert.doesNotThrow(() => parseShellConfig(shell));
});
