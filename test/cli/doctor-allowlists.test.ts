/**
 * What `mithai doctor` says about allowed_users / allowed_channels / approvers, line by line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowlistChecks } from '../../src/cli/doctor-allowlists.ts';
import type { Config } from '../../src/config/schema.ts';

function lines(users: string[], channels: string[], approvers: string[], explain: string[] = []): string[] {
  const config = { adapter: { slack: { allowed_users: users, allowed_channels: channels } }, human: { approvers } } as unknown as Config;
  return allowlistChecks(config, explain).map((c) => `${c.status} ${c.text}`);
}

test('a list starting with an exclusion: everyone except, and why an id is admitted', () => {
  assert.deepEqual(lines(['!UBAD'], ['C1', 'C2*'], ['UBOSS'], ['U12']), [
    'ok adapter.slack.allowed_users: everyone except UBAD (rule 1 is an exclusion, so ids no rule names are admitted); U12 is admitted because no rule names it',
    'ok adapter.slack.allowed_channels: only C1 and C2* (ids no rule names are refused); U12 is refused because no rule names it',
    'ok human.approvers: besides the requester, only UBOSS (ids no rule names are refused); U12 is not an approver because no rule names it',
  ]);
});

test('empty lists keep their warnings', () => {
  assert.deepEqual(lines([], [], []), [
    'warn adapter.slack.allowed_users is empty: everyone in the workspace can talk to the agent',
    'warn adapter.slack.allowed_channels is empty: the agent answers in every channel it is in',
    'warn human.approvers is empty: only the requester can approve their own calls',
  ]);
});

test('later rules win, in words', () => {
  assert.deepEqual(lines(['U*', '!U1*', 'U12'], ['*', '!C9'], ['U1', 'U2'], ['U13', 'U12']).slice(0, 2), [
    'ok adapter.slack.allowed_users: only U*, except U1*, but again U12 (ids no rule names are refused; later rules win); U13 is refused by rule 2 !U1*; U12 is admitted by rule 3 U12',
    'ok adapter.slack.allowed_channels: everyone except C9; U13 is admitted by rule 1 *; U12 is admitted by rule 1 *',
  ]);
});

test('a list that admits everyone or nobody warns; so does * among approvers', () => {
  assert.deepEqual(lines(['?*'], ['!*'], ['*', '!U666']), [
    'warn adapter.slack.allowed_users: everyone: everyone in the workspace can talk to the agent',
    'warn adapter.slack.allowed_channels: nobody: the agent answers in no channel (direct messages only)',
    'ok human.approvers: besides the requester, everyone except U666',
    'warn human.approvers: rule 1 * lets anyone not excluded after it approve anyone\u2019s calls',
  ]);
  assert.deepEqual(lines(['U1'], ['C1'], ['*']).slice(2), ['warn human.approvers: besides the requester, everyone: anyone in the workspace can approve anyone\u2019s calls']);
});

test('rules that never decide or change nothing are named, and an approver list never starts from everyone', () => {
  assert.deepEqual(lines(['!U666', 'U*'], ['C1', 'C1', '  '], ['!U666']), [
    'warn adapter.slack.allowed_users: everyone: everyone in the workspace can talk to the agent',
    'warn adapter.slack.allowed_users: rule 1 !U666 never decides: every id it names is decided again by rule 2 U* (but as the first rule it makes the list start from everyone: write * first if you remove it)',
    'warn adapter.slack.allowed_users: rule 2 U* changes nothing: every id it names is already admitted at that point',
    'ok adapter.slack.allowed_channels: only C1 (ids no rule names are refused)',
    'warn adapter.slack.allowed_channels: rule 3 "  " is empty and ignored',
    'warn adapter.slack.allowed_channels: rule 1 C1 never decides: every id it names is decided again by rule 2 C1',
    'warn human.approvers: nobody besides the requester: only the requester can approve their own calls',
    'warn human.approvers: rule 1 !U666 changes nothing: every id it names is already refused at that point (an approver list starts from nobody)',
  ]);
});
