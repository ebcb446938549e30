/**
 * Review finding (#15, human.confirm_requires_second_person, default true): the local decider
 * identity of `mithai approvals approve` is `local:${process.env.USER}` (src/cli/approval-
 * decision.ts localDecider), and `USER` is whatever the caller puts in its environment. The
 * requester of a `mithai chat` confirm call therefore confirms it alone from the same OS account
 * with `USER=anyone mithai approvals approve ID --phrase …`, and the audit log records
 * `decider: "local:anyone"`, a person who decided nothing. The second-person rule and the
 * audit's attribution are both one environment variable away.
 *
 * What must hold: the local identity is the OS account running the command (os.userInfo(),
 * from the uid), not an environment variable, so the same account is always the same person
 * for the second-person rules and the audit names who really decided.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { runCli, startChat } from '../e2e/chat-harness.ts';

test('the requester cannot confirm their own confirm call from the same OS account by setting USER', async (t) => {
  const login = userInfo().username;
  // Default settings (confirm_requires_second_person not set): the chat user is the OS login.
  const chat = await startChat(t, [reply(toolUse('ops__drop_db', { name: 'orders' })), reply('Dropped.')], {
    project: { extraConfig: '  approvers: ["local:*"]' },
    env: { USER: login },
  });
  chat.write('drop the orders db\n');
  await chat.until('the second-person prompt', () => /leave this waiting for another approver/.test(chat.out()));
  const id = chat.pendingId();
  assert.notEqual(id, '');

  // Same OS account, same person — only the environment variable says otherwise.
  const spoofed = await runCli(['approvals', 'approve', id, '--phrase', 'orders', '--config', chat.project.configPath], { cwd: chat.project.dir, env: { USER: `not-${login}` } });
  chat.end();
  await chat.closed;
  const decisions = chat.project.auditRecords().filter((r) => r.event === 'decision').map((r) => [r.decision, r.requester, r.decider]);
  assert.equal(spoofed.code, 1, `the requester's own OS account confirmed its confirm call (stdout: ${spoofed.stdout.trim()}; audit decisions: ${JSON.stringify(decisions)})`);
  assert.deepEqual(chat.project.effects(), [], 'nothing ran');
});
