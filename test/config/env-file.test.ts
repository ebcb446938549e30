/**
 * `.env` variables set twice are found (dotenv silently keeps the last), by name and line only,
 * without being fooled by a multi-line quoted value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateEnvKeys } from '../../src/config/env-file.ts';

test('a variable set twice is named with its lines; comments, blanks and export prefixes are understood', () => {
  const text = ['# secrets', 'ANTHROPIC_API_KEY=sk-ant-one', '', 'export SLACK_BOT_TOKEN=xoxb-1', 'ANTHROPIC_API_KEY = sk-ant-two', 'SLACK_APP_TOKEN=xapp-1', '  SLACK_BOT_TOKEN=xoxb-2'].join('\n');
  assert.deepEqual(duplicateEnvKeys(text), [{ name: 'ANTHROPIC_API_KEY', lines: [2, 5] }, { name: 'SLACK_BOT_TOKEN', lines: [4, 7] }]);
  assert.doesNotMatch(JSON.stringify(duplicateEnvKeys(text)), /sk-ant|xoxb/, 'values are never returned');
});

test('lines inside a multi-line quoted value are not assignments', () => {
  const text = ['KEY="-----BEGIN KEY-----', 'KEY=not an assignment, part of the value', '-----END KEY-----"', 'OTHER=1'].join('\n');
  assert.deepEqual(duplicateEnvKeys(text), []);
  assert.deepEqual(duplicateEnvKeys('A=1\nA=2\r\nB=3\n'), [{ name: 'A', lines: [1, 2] }]);
});
