import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, nearestName } from '../../src/config/nearest-name.ts';
import { knownKeysAt } from '../../src/config/schema-keys.ts';
import { configSchema } from '../../src/config/schema.ts';

test('a near typo gets the known name: a shortened word, a missing letter, two swapped letters', () => {
  const human = ['timeout_seconds', 'approval_valid_seconds', 'approvers', 'overrides'];
  assert.equal(nearestName('timeout_secs', human), 'timeout_seconds');
  assert.equal(nearestName('aprovers', human), 'approvers');
  assert.equal(nearestName('ovreride', human), 'overrides');
  assert.equal(nearestName('Approvers', human), 'approvers', 'case is no obstacle');
});

test('nothing is suggested when no known name is close, or for the name itself', () => {
  assert.equal(nearestName('escalation_policy', ['timeout_seconds', 'approvers']), undefined);
  assert.equal(nearestName('ab', ['cd']), undefined, 'a two-letter name two edits away is another word');
  assert.equal(nearestName('bot', ['bot']), undefined);
  assert.equal(nearestName('anything', []), undefined);
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('timeout', 'timeuot'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('the known keys are read through the schema wrappers (prefault, default, preprocess)', () => {
  const top = knownKeysAt(configSchema, []);
  for (const key of ['bot', 'adapter', 'llm', 'agent', 'skills', 'human', 'memory', 'state', 'logging']) assert.ok(top.includes(key), `top level lacks ${key}: ${top.join(', ')}`);
  assert.ok(knownKeysAt(configSchema, ['human']).includes('timeout_seconds'));
  assert.ok(knownKeysAt(configSchema, ['adapter', 'slack']).includes('bot_token'));
  assert.ok(knownKeysAt(configSchema, ['llm', 'anthropic']).includes('base_url'));
  assert.deepEqual(knownKeysAt(configSchema, ['human', 'overrides']), [], 'a record has no fixed keys');
  assert.deepEqual(knownKeysAt(configSchema, ['no_such_section']), []);
});
