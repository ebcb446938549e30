/**
 * The terminal prompt for a call made after untrusted content: the warning comes before the
 * question; when the local user cannot approve it alone (human.tainted_requires_second_person),
 * the prompt says so and how someone else can approve it, a "y" decides nothing, and "n"
 * still denies. With the setting off, the warning is shown and "y" approves as usual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { reply, toolUse } from '../../fakes/anthropic/script.ts';
import { describeApproval } from '../../../src/adapters/terminal/approval-text.ts';
import { approval } from '../../fixtures/approval.ts';
import { startTerminalTurn } from './terminal-fixture.ts';

async function until(what: string, check: () => boolean, screen: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}\n--- screen ---\n${screen()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function chatAfterUntrustedPage(t: TestContext, yaml = '') {
  const turn = await startTerminalTurn(t, [reply(toolUse('t__fetch_page', { url: 'https://example.com' })), reply(toolUse('t__write_note', { text: 'pwned' })), reply('done')], 'read the page', { yaml, thread: 'chat-taint', checkDecider: true });
  return { h: turn.h, input: turn.input, screen: turn.screen, approvalId: turn.approvalId, id: turn.id };
}

test('the warning comes before the question, the user cannot approve alone, "y" decides nothing and "n" denies', async (t) => {
  const { h, input, screen, approvalId } = await chatAfterUntrustedPage(t);
  await until('no prompt', () => /leave this waiting for another approver/.test(screen()), screen);
  const shown = screen();
  const warning = shown.indexOf('⚠ Untrusted content is in this conversation — output of t__fetch_page. It may have asked for this call');
  assert.ok(warning > 0, shown);
  assert.ok(warning < shown.indexOf('"text": "pwned"'), 'the warning comes before the input');
  assert.match(shown, /You cannot approve this call yourself\. .*human\.tainted_requires_second_person/);
  assert.match(shown, new RegExp(`mithai approvals approve ${approvalId}`));
  assert.doesNotMatch(shown, /Approve\? \[y\/N\]/, 'the prompt does not offer what it cannot do');

  input.write('y\n');
  await until('"y" was not answered', () => /Nothing was decided; the call waits for another approver/.test(screen()), screen);
  assert.equal(h.runtime.approvals.get(approvalId)?.state, 'pending');
  assert.deepEqual(h.effects(), ['fetch']);

  input.write('n not me\n');
  await until('"n" did not deny', () => h.runtime.approvals.get(approvalId)?.state === 'denied', screen);
  assert.equal(h.runtime.approvals.get(approvalId)?.decider, 'U1');
  assert.deepEqual(h.effects(), ['fetch'], 'the note was never written');
});

test('with tainted_requires_second_person off, the warning is shown and "y" approves', async (t) => {
  const { h, input, screen, approvalId, id } = await chatAfterUntrustedPage(t, 'human: { tainted_requires_second_person: false }');
  await until('no prompt', () => /Approve\? \[y\/N\]/.test(screen()), screen);
  assert.match(screen(), /⚠ Untrusted content is in this conversation — output of t__fetch_page/);
  const finished = h.runtime.engine.whenFinished(id);
  input.write('y\n');
  await finished;
  assert.equal(h.runtime.approvals.get(approvalId)?.state, 'succeeded');
  assert.deepEqual(h.effects(), ['fetch', 'note pwned']);
});

test('describeApproval shows no warning for a clean call, and never markup or hidden characters in sources', () => {
  assert.doesNotMatch(describeApproval(approval(), (t) => t), /Untrusted/);
  const text = describeApproval(approval({ taint: [{ kind: 'thread_message', source: 'U1\u202e' }] }), (t) => t);
  assert.match(text, /a message from U1\\u202E/i);
});
