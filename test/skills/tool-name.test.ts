import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isValidLocalToolName, isValidModelToolName, isValidSkillName, parseToolName, toolName } from '../../src/skills/tool-name.ts';

describe('tool names', () => {
  test('joins a skill and a tool with a double underscore', () => {
    assert.equal(toolName('k8s', 'get_pods'), 'k8s__get_pods');
    assert.equal(toolName('my-skill', 'Run-It'), 'my-skill__Run-It');
  });

  test('splits a canonical name back into its parts', () => {
    assert.deepEqual(parseToolName('k8s__get_pods'), { skill: 'k8s', tool: 'get_pods' });
    assert.deepEqual(parseToolName('k8s__get_pods_'), { skill: 'k8s', tool: 'get_pods_' });
  });

  test('splits correctly when the skill name ends in an underscore', () => {
    const name = toolName('ops_', 'run');
    assert.equal(name, 'ops___run');
    assert.deepEqual(parseToolName(name), { skill: 'ops_', tool: 'run' });
  });

  test('does not parse names without a valid skill and tool part', () => {
    for (const name of ['get_pods', '__x', 'k8s__', 'K8S__x', 'a__b__c', 'k8s__get pods', 'a'.repeat(40) + '__' + 'b'.repeat(30)]) {
      assert.equal(parseToolName(name), undefined, name);
    }
  });

  test('accepts skill names of lowercase letters, digits, - and _ without the separator', () => {
    for (const name of ['k8s', 'a', '0ops', 'my-skill', 'my_skill', 'ops_']) assert.equal(isValidSkillName(name), true, name);
    for (const name of ['', 'K8s', '-a', '_a', 'a__b', 'a b', 'a.b', 'ä']) assert.equal(isValidSkillName(name), false, name);
  });

  test('accepts local tool names of letters, digits, - and _ without the separator', () => {
    for (const name of ['get_pods', 'GetPods', '0x', 'run-it']) assert.equal(isValidLocalToolName(name), true, name);
    for (const name of ['', '_x', '-x', 'get__pods', 'get pods', 'get.pods']) assert.equal(isValidLocalToolName(name), false, name);
  });

  test('refuses parts that are invalid or a full name longer than 64 characters', () => {
    assert.throws(() => toolName('K8s', 'x'), /invalid skill name/);
    assert.throws(() => toolName('k8s', 'get__pods'), /invalid tool name/);
    assert.equal(isValidModelToolName(toolName('a'.repeat(30), 'b'.repeat(32))), true);
    assert.throws(() => toolName('a'.repeat(30), 'b'.repeat(33)), /longer than 64/);
  });
});
