/**
 * Confirm means a second human by default, in the terminal too (the real CLI as child processes,
 * against the fake Messages API). `mithai chat` has one person at the keyboard, the requester, so
 * under the default they cannot confirm their own confirm call: the prompt says so before it
 * asks, names both ways on (another login with `mithai approvals approve ID --phrase …`, or
 * `human.confirm_requires_second_person: false` for a solo setup), and typing the phrase decides
 * nothing. The same OS account deciding from the CLI is still the requester (`local:<login>` is
 * `<login>`, the login read from the uid, never from `$USER`) and is refused with the same
 * explanation. (Another login confirming is covered by test/human/approvers.test.ts.)
 * (With the setting explicitly false, chat confirms alone: see chat.test.ts, the phrase test.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { userInfo } from 'node:os';
import { runCli, startChat } from './chat-harness.ts';

const SOLO_HINT =
  'You cannot approve this call yourself. You asked for this call, and confirm calls need a second person (human.confirm_requires_second_person): ' +
  'ask another approver listed in human.approvers to confirm it, or set human.confirm_requires_second_person: false in config.yaml for a solo setup.';

test('by default chat cannot confirm its own confirm call: the prompt names the way out, the phrase decides nothing, and the same OS account is refused from the CLI whatever USER says', async (t) => {
  // Any local login may decide from the CLI; the chat user is this OS account (no --user). No
  // confirm_requires_second_person in config.yaml: the default applies.
  const login = userInfo().username;
  const chat = await startChat(t, [reply(toolUse('ops__drop_db', { name: 'orders' })), reply('Dropped.')], {
    project: { extraConfig: '  approvers: ["local:*"]' },
  });
  chat.write('drop the orders db\n');
  await chat.until('no approval prompt', () => /leave this waiting for another approver/.test(chat.out()));
  assert.ok(chat.out().includes(SOLO_HINT), chat.out());
  const id = chat.pendingId();
  assert.ok(chat.out().includes(`mithai approvals approve ${id} --phrase "orders"`), 'the command another person runs, with the phrase');

  chat.write('orders\n');
  await chat.until('the phrase was taken as an answer', () => /Nothing was decided; the call waits for another approver/.test(chat.out()));
  assert.deepEqual(chat.project.effects(), []);

  // The same OS account from another terminal is still the requester, even claiming to be
  // someone else through the environment: refused, with the same explanation.
  for (const env of [{}, { USER: `not-${login}`, LOGNAME: `not-${login}` }]) {
    const self = await runCli(['approvals', 'approve', id, '--phrase', 'orders', '--config', chat.project.configPath], { cwd: chat.project.dir, env });
    assert.equal(self.code, 1, self.stdout);
    assert.match(self.stderr, /^mithai: You asked for this call, and confirm calls need a second person \(human\.confirm_requires_second_person\).*solo setup/);
  }
  assert.deepEqual(chat.project.effects(), []);
  assert.deepEqual(chat.project.auditRecords().filter((r) => r.event === 'decision'), [], 'nothing was decided');
  assert.deepEqual(chat.project.auditRecords().filter((r) => r.event === 'requested').map((r) => r.requester), [login]);
  chat.end();
  await chat.closed;
});
