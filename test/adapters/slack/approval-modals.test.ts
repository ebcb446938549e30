/**
 * The confirm and deny modals: private_metadata is the approval id alone; what the approver
 * typed is read back tolerantly (zero-width spaces copied off the card removed, reasons
 * trimmed and capped), and untrusted text in the modal is escaped like on the card.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INPUTS, MODALS, REASON_MAX, confirmModal, denyModal, typedPhrase, typedReason } from '../../../src/adapters/slack/approval-modals.ts';
import { approval } from '../../fixtures/approval.ts';
import { Redactor } from '../../../src/security/redactor.ts';

const keep = (t: string): string => t;
const values = (block: string, action: string, value: string | null) => ({ [block]: { [action]: { value } } });

test('the confirm modal carries only the approval id and shows the phrase, escaped', () => {
  const view = confirmModal(approval({ level: 'confirm', confirmPhrase: 'orders <!channel>' }), (t) => t);
  assert.equal(view.callback_id, MODALS.confirm);
  assert.equal(view.private_metadata, 'apr_0123456789ab');
  assert.ok(view.title.text.length <= 24 && view.submit.text.length <= 24);
  const intro = JSON.stringify(view.blocks[0]);
  assert.match(intro, /Type `orders &lt;!channel&gt;` exactly/);
  assert.equal(view.blocks[2]!.block_id, INPUTS.phrase.block);
});

test('the confirm modal shows the input it confirms, redacted and escaped like the card', () => {
  const secret = 'hunter2-very-secret-value';
  const redactor = new Redactor([secret]);
  const view = confirmModal(approval({ level: 'confirm', confirmPhrase: 'orders', inputJson: JSON.stringify({ name: 'orders', note: `drop <b> with ${secret}` }) }), (t) => redactor.redact(t));
  const shownInput = (view.blocks[1]!.text as { text: string }).text;
  assert.equal(view.blocks[1]!.block_id, 'mithai_confirm_input');
  assert.match(shownInput, /"name": "orders"/);
  assert.match(shownInput, /drop &lt;b&gt; with \[REDACTED\]/);
  assert.doesNotMatch(JSON.stringify(view), /hunter2/);
});

test('the deny modal has one optional, length-capped reason input', () => {
  const view = denyModal(approval(), (t) => t);
  assert.equal(view.callback_id, MODALS.deny);
  assert.equal(view.private_metadata, 'apr_0123456789ab');
  const input = view.blocks[1]!;
  assert.equal(input.optional, true);
  assert.equal((input.element as { max_length: number }).max_length, REASON_MAX);
});

test('typed values are read back: phrase without zero-width spaces, reason trimmed or absent', () => {
  assert.equal(typedPhrase(values(INPUTS.phrase.block, INPUTS.phrase.action, 'ord\u200bers')), 'orders');
  assert.equal(typedPhrase({}), '');
  assert.equal(typedReason(values(INPUTS.reason.block, INPUTS.reason.action, '  not now  '), keep), 'not now');
  assert.equal(typedReason(values(INPUTS.reason.block, INPUTS.reason.action, '   '), keep), undefined);
  assert.equal(typedReason(values(INPUTS.reason.block, INPUTS.reason.action, null), keep), undefined);
  assert.equal(typedReason(values(INPUTS.reason.block, INPUTS.reason.action, 'r'.repeat(5000)), keep)!.length, REASON_MAX);
});

test('the confirm modal shows invisible characters of the tool and phrase as \\u escapes', () => {
  const modal = confirmModal(approval({ level: 'confirm', confirmPhrase: 'prod\u202Eapi\u200b' }), (t) => t);
  const intro = JSON.stringify(modal.blocks[0]);
  assert.match(intro, /prod\\\\u202Eapi\\\\u200B/);
  assert.doesNotMatch(intro, /\u202E/);
});

test('a typed reason is redacted before it is capped: no cut offset leaves a piece of a secret', () => {
  const secret = 'hunter2-very-secret-value-0123456789';
  const redactor = new Redactor([secret]);
  const redact = (t: string): string => redactor.redact(t);
  // A forged submission can be longer than the form's max_length; put the secret across the cap.
  for (let start = REASON_MAX - secret.length; start <= REASON_MAX; start++) {
    const typed = `${'r'.repeat(start)}${secret} and more`;
    const reason = typedReason(values(INPUTS.reason.block, INPUTS.reason.action, typed), redact)!;
    assert.ok(reason.length <= REASON_MAX, `at ${start}: ${reason.length} characters`);
    for (let n = 6; n <= secret.length; n++) assert.ok(!reason.includes(secret.slice(0, n)), `at ${start}: the first ${n} characters of the secret survived`);
  }
});
