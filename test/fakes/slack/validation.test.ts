/**
 * Unit tests of the fake's Slack validation rules: one case per limit, checking the error code
 * and the json-pointer Slack would name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMessage, validateModalView, validateViewErrors } from './validation.ts';

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const button = (action_id: string, extra: Record<string, unknown> = {}) => ({ type: 'button', action_id, text: plain('Go'), ...extra });

/** The json-pointers of a message validation failure. */
function pointers(blocks: unknown[]): string[] {
  const result = validateMessage({ text: 't', blocks });
  assert.equal(result?.error, 'invalid_blocks');
  return result.messages.map((m) => /\[json-pointer:(.*)\]$/.exec(m)?.[1] ?? m);
}

test('message text: no_text, msg_too_long, invalid_blocks_format; valid messages pass', () => {
  assert.equal(validateMessage({})?.error, 'no_text');
  assert.equal(validateMessage({ text: '', blocks: [] })?.error, 'no_text');
  assert.equal(validateMessage({ text: 'x'.repeat(40_001) })?.error, 'msg_too_long');
  assert.equal(validateMessage({ text: 'x'.repeat(40_000) }), undefined);
  assert.equal(validateMessage({ blocks: '[not json' })?.error, 'invalid_blocks_format');
  assert.equal(validateMessage({ blocks: [{ type: 'divider' }] }), undefined);
  assert.equal(validateMessage({ text: 'x', blocks: [
    { type: 'header', text: plain('h'.repeat(150)) },
    { type: 'section', text: mrkdwn('s'.repeat(3000)), accessory: button('a', { value: 'v'.repeat(2000) }) },
    { type: 'actions', block_id: 'b'.repeat(255), elements: Array.from({ length: 25 }, (_, i) => button(`a${i}`)) },
    { type: 'context', elements: [mrkdwn('c')] },
  ] }), undefined);
});

test('block limits name the offending field', () => {
  assert.deepEqual(pointers(Array.from({ length: 51 }, () => ({ type: 'divider' }))), ['/blocks']);
  assert.deepEqual(pointers([{ type: 'divider' }, { block_id: 'x' }]), ['/blocks/1']);
  assert.deepEqual(pointers([{ type: 'section', text: mrkdwn('s'.repeat(3001)) }]), ['/blocks/0/text/text']);
  assert.deepEqual(pointers([{ type: 'header', text: plain('h'.repeat(151)) }]), ['/blocks/0/text/text']);
  assert.deepEqual(pointers([{ type: 'header', text: mrkdwn('h') }]), ['/blocks/0/text/type']);
  assert.deepEqual(pointers([{ type: 'section', text: mrkdwn('') }]), ['/blocks/0/text/text']);
  assert.deepEqual(pointers([{ type: 'context', elements: [plain('')] }]), ['/blocks/0/elements/0/text']);
  assert.deepEqual(pointers([{ type: 'divider', block_id: 'b'.repeat(256) }]), ['/blocks/0/block_id']);
  assert.deepEqual(pointers([{ type: 'divider', block_id: 'x' }, { type: 'divider', block_id: 'x' }]), ['/blocks/1/block_id']);
  assert.deepEqual(pointers([{ type: 'carousel' }]), ['/blocks/0/type']);
});

test('actions and button limits', () => {
  const actions = (elements: unknown[]) => [{ type: 'actions', elements }];
  assert.deepEqual(pointers(actions(Array.from({ length: 26 }, (_, i) => button(`a${i}`)))), ['/blocks/0/elements']);
  assert.deepEqual(pointers(actions([button('a'), button('a')])), ['/blocks/0/elements/1/action_id']);
  assert.deepEqual(pointers(actions([button('a'.repeat(256))])), ['/blocks/0/elements/0/action_id']);
  assert.deepEqual(pointers(actions([{ ...button('a'), text: plain('t'.repeat(76)) }])), ['/blocks/0/elements/0/text/text']);
  assert.deepEqual(pointers(actions([button('a', { value: 'v'.repeat(2001) })])), ['/blocks/0/elements/0/value']);
  assert.deepEqual(pointers(actions([button('a', { style: 'blue' })])), ['/blocks/0/elements/0/style']);
  assert.deepEqual(pointers(actions([{ action_id: 'a' }])), ['/blocks/0/elements/0']);
  assert.deepEqual(pointers(actions([])), ['/blocks/0/elements']);
  const messages = validateMessage({ text: 't', blocks: actions([button('a'), button('a')]) })?.messages;
  assert.deepEqual(messages, ['[ERROR] duplicate action_id: a [json-pointer:/blocks/0/elements/1/action_id]']);
});

test('modal views: title, submit with inputs, ids, metadata, block count', () => {
  const input = { type: 'input', block_id: 'in', label: plain('L'), element: { type: 'plain_text_input', action_id: 'v' } };
  const modal = (extra: Record<string, unknown>) => ({ type: 'modal', title: plain('Title'), blocks: [], ...extra });
  const pointer = (view: unknown) => validateModalView(view)?.messages.map((m) => /\[json-pointer:(.*)\]$/.exec(m)?.[1]);
  assert.equal(validateModalView(modal({ submit: plain('Go'), blocks: [input] })), undefined);
  assert.equal(validateModalView(modal({ title: plain('t'.repeat(25)) }))?.error, 'invalid_arguments');
  assert.deepEqual(pointer(modal({ title: plain('t'.repeat(25)) })), ['/view/title/text']);
  assert.deepEqual(pointer(modal({ blocks: [input] })), ['/view/submit']);
  assert.deepEqual(pointer(modal({ callback_id: 'c'.repeat(256) })), ['/view/callback_id']);
  assert.deepEqual(pointer(modal({ private_metadata: 'p'.repeat(3001) })), ['/view/private_metadata']);
  assert.deepEqual(pointer(modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) })), ['/view/blocks']);
  assert.deepEqual(pointer(modal({ type: 'home' })), ['/view/type']);
  assert.deepEqual(pointer(modal({ submit: plain('s'.repeat(25)) })), ['/view/submit/text']);
  assert.deepEqual(pointer({ type: 'modal', blocks: [] }), ['/view']);
});

test('response_action errors must name input blocks', () => {
  const view = { blocks: [{ type: 'input', block_id: 'reason' }, { type: 'section', block_id: 'info' }] };
  assert.equal(validateViewErrors(view, { reason: 'Too short' }), undefined);
  assert.equal(validateViewErrors(view, { info: 'x' })?.error, 'invalid_arguments');
  assert.equal(validateViewErrors(view, {})?.error, 'invalid_arguments');
  assert.equal(validateViewErrors(view, { reason: '' })?.error, 'invalid_arguments');
});
