/**
 * The approval card is drawn from the row alone. The rules pinned here: text that did not come
 * from mithai (tool input, description, phrase, reason, error) can neither leave its code block
 * nor forge card lines, links, mentions or pings; secrets are redacted before anything is cut;
 * a card too big for one section says so and offers the full input; buttons carry only the id
 * and disappear once the approval is decided; every state has its own final words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, fullInputMessages, renderCard, statusLine } from '../../../src/adapters/slack/approval-card.ts';
import type { SlackBlock } from '../../../src/adapters/slack/approval-card.ts';
import { Redactor } from '../../../src/security/redactor.ts';
import { approval } from '../../fixtures/approval.ts';

const noRedact = (t: string): string => t;
const text = (blocks: SlackBlock[]): string => blocks.map((b) => (b.text as { text?: string } | undefined)?.text ?? '').join('\n');
const inputSection = (blocks: SlackBlock[]): string => (blocks.find((b) => b.block_id === 'mithai_input')!.text as { text: string }).text;
const buttons = (blocks: SlackBlock[]): Array<Record<string, unknown>> =>
  blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as Array<Record<string, unknown>>) : []));

test('input with ``` and Slack control sequences stays inside its code block and cannot ping or link', () => {
  const hostile = { note: '```\n*Approved by <@UBOSS>* <!channel> <!here|here> <https://evil.example|click> & done\n```' };
  const card = renderCard(approval({ inputJson: JSON.stringify(hostile) }), noRedact);
  const section = inputSection(card.blocks);
  assert.ok(section.startsWith('*Input*\n```\n'));
  assert.ok(section.endsWith('\n```'));
  const inner = section.slice('*Input*\n```\n'.length, -'\n```'.length);
  assert.doesNotMatch(inner, /``/, 'no two backticks in a row inside the block');
  assert.doesNotMatch(inner, /[<>]/, 'no raw angle brackets: no mention, ping or link can form');
  assert.match(inner, /&lt;!channel&gt;/);
  assert.match(inner, /&amp; done/);
  assert.doesNotMatch(JSON.stringify(card), /<!channel>|<!here|<@UBOSS>|<https:/);
});

test('description, requester, confirm phrase and deny reason are escaped and cannot forge a line of the card', () => {
  const pending = renderCard(approval({
    level: 'confirm',
    confirmPhrase: 'orders` <!channel>\n*Approved*',
    toolDescription: 'Deletes <!everyone> stuff\n*Approved by <@UX>*',
    requester: 'not-a-slack-id <!here>',
  }), noRedact);
  const all = text(pending.blocks);
  assert.doesNotMatch(all, /<!channel>|<!everyone>|<!here>|<@UX>/);
  assert.match(all, /type `orders`\u200b &lt;!channel&gt; \*Approved\*` exactly/, 'the phrase stays on one line inside its code span');
  assert.match(all, /\*Requested by\* not-a-slack-id &lt;!here&gt;/);
  const denied = renderCard(approval({ state: 'denied', decider: 'UBOB000001', decidedAt: '2025-01-01T00:01:00.000Z', reason: 'no\n:white_check_mark: Approved by <@UX>' }), noRedact);
  const status = (denied.blocks[0]!.text as { text: string }).text.split('\n')[0]!;
  assert.match(status, /^:no_entry: Denied by <@UBOB000001> at <!date\^1735689660\^\{date_short_pretty\} \{time\}\|2025-01-01T00:01:00\.000Z> \(no :white_check_mark: Approved by &lt;@UX&gt;\), not run$/);
});

test('a pending approve card has Approve (primary) and Deny (danger) buttons that carry only the approval id', () => {
  const card = renderCard(approval(), noRedact);
  assert.deepEqual(buttons(card.blocks).map((b) => [b.action_id, b.style, b.value]), [
    [ACTIONS.approve, 'primary', 'apr_0123456789ab'],
    [ACTIONS.deny, 'danger', 'apr_0123456789ab'],
  ]);
  assert.match(text(card.blocks), /\*Decide by\* <!date\^1735689900\^\{date_short_pretty\} \{time\}\|2025-01-01T00:05:00\.000Z>/);
  assert.match(text(card.blocks), /\*Level\* approve: the tool declares this level/);
  assert.match(card.text, /Approval needed: ops__restart \(requested by <@UALICE0001>\)/);
});

test('a confirm card has a Confirm… button and names the phrase', () => {
  const card = renderCard(approval({ level: 'confirm', confirmPhrase: 'orders' }), noRedact);
  assert.deepEqual(buttons(card.blocks).map((b) => b.action_id), [ACTIONS.confirm, ACTIONS.deny]);
  assert.match(text(card.blocks), /click \*Confirm…\* and type `orders` exactly/);
});

test('every level reason is explained in words', () => {
  const words = (['declared', 'default', 'override', 'dynamic', 'taint', 'fail_closed'] as const).map((levelReason) => text(renderCard(approval({ levelReason }), noRedact).blocks));
  assert.match(words[1]!, /declares no level/);
  assert.match(words[2]!, /human\.overrides/);
  assert.match(words[3]!, /resolveHuman chose/);
  assert.match(words[4]!, /untrusted content/);
  assert.match(words[5]!, /fail closed/);
});

test('no field is hidden by a long one: each top-level field on its own line, long values cut one by one and named', () => {
  const inputJson = JSON.stringify({ script: 'x'.repeat(3000), namespace: 'prod', notes: 'y <&> '.repeat(500), replicas: 0 });
  const card = renderCard(approval({ inputJson }), noRedact);
  const section = inputSection(card.blocks);
  assert.ok(section.length <= 3000);
  assert.match(section, /^\*Input\* \(one line per field\)\n```\n"script": "x+…\n"namespace": "prod"\n"notes": "(y &lt;&amp;&gt; )+[^\n]*…\n"replicas": 0\n```\n_Cut: `script`, `notes`\. Use \*Show full input\* to see all of it\._$/);
  assert.deepEqual(buttons(card.blocks).map((b) => b.action_id), [ACTIONS.approve, ACTIONS.deny, ACTIONS.showInput]);
});

test('an input with too many fields to cut one by one is truncated as a whole, with a note', () => {
  const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`field_${i}`, `value ${i} `.repeat(5)]));
  const card = renderCard(approval({ inputJson: JSON.stringify(many) }), noRedact);
  const section = inputSection(card.blocks);
  assert.ok(section.length <= 3000);
  assert.match(section, /```\n_Input truncated: \d+ of \d+ characters shown\. Use \*Show full input\* to see all of it\._$/);
});

test('an input too big for one section is cut with a note and a Show full input button; every section fits', () => {
  const big = { lines: Array.from({ length: 400 }, (_, i) => `entry ${i} <&>`) };
  const card = renderCard(approval({ inputJson: JSON.stringify(big) }), noRedact);
  for (const block of card.blocks) {
    const t = (block.text as { text?: string } | undefined)?.text;
    if (t !== undefined) assert.ok(t.length <= 3000, `section ${block.block_id} has ${t.length} characters`);
  }
  const section = inputSection(card.blocks);
  assert.match(section, /```\n_Cut: `lines`\. Use \*Show full input\* to see all of it\._$/);
  assert.equal((section.match(/```/g) ?? []).length, 2, 'the code block is closed before the note');
  assert.deepEqual(buttons(card.blocks).map((b) => b.action_id), [ACTIONS.approve, ACTIONS.deny, ACTIONS.showInput]);

  const full = fullInputMessages(approval({ inputJson: JSON.stringify(big) }), noRedact);
  assert.ok(full.length >= 2);
  for (const message of full) {
    assert.ok(message.length <= 3900);
    assert.equal((message.match(/```/g) ?? []).length % 2, 0);
  }
  assert.ok(full.join('').includes('entry 399 &lt;&amp;&gt;'));
});

test('secrets are redacted before the input is truncated, so no half of a secret survives the cut', () => {
  const secret = 'hunter2-very-secret-value';
  const redactor = new Redactor([secret]);
  // Whatever the alignment, the cut falls inside some occurrence of the secret.
  for (let pad = 0; pad < secret.length + 1; pad += 1) {
    const inputJson = JSON.stringify({ a: 'p'.repeat(pad) + `${secret} `.repeat(400) });
    const card = renderCard(approval({ inputJson }), (t) => redactor.redact(t));
    assert.match(inputSection(card.blocks), /Cut: `a`/);
    assert.doesNotMatch(JSON.stringify(card), /hunt|ery-sec|cret-va|t-value/, `padding ${pad}`);
  }
  for (const message of fullInputMessages(approval({ inputJson: JSON.stringify({ b: secret }) }), (t) => redactor.redact(t))) {
    assert.doesNotMatch(message, /hunter2/);
    assert.match(message, /\[REDACTED\]/);
  }
});

test('decided cards have no buttons and say who decided what, and when', () => {
  const at = { decider: 'UBOB000001', decidedAt: '2025-01-01T00:01:00.000Z' };
  const cases: Array<[Parameters<typeof approval>[0], RegExp]> = [
    [{ state: 'approved', ...at }, /Approved by <@UBOB000001> at <!date[^>]+> — running…/],
    [{ state: 'executing', ...at }, /— running…/],
    [{ state: 'succeeded', ...at, outcome: 'succeeded' }, /Approved by <@UBOB000001> at <!date[^>]+> — succeeded/],
    [{ state: 'failed', ...at, outcome: 'boom <!channel>' }, /— failed: boom &lt;!channel&gt;/],
    [{ state: 'denied', ...at }, /Denied by <@UBOB000001> at <!date[^>]+> \(no reason given\), not run/],
    [{ state: 'expired', decidedAt: '2025-01-01T00:05:00.000Z' }, /Expired at <!date\^1735689900[^>]+>, not run/],
    [{ state: 'cancelled', reason: 'shutdown' }, /Cancelled \(shutdown\), not run/],
    [{ state: 'unknown', ...at, outcome: 'runtime stopped while the call was running; outcome unknown; it will not be re-run' }, /Outcome unknown — check before retrying \(the runtime restarted while it ran\); it will not be re-run/],
    [{ state: 'unknown', ...at, outcome: 'timed out after 60 s' }, /Approved by <@UBOB000001> at <!date[^>]+> — Outcome unknown — check before retrying \(timed out after 60 s\); it will not be re-run/],
    [{ state: 'approved', ...at, reason: 'waiting for the turn to resume' }, /Approved by <@UBOB000001> at <!date[^>]+> — waiting to run: waiting for the turn to resume/],
    // A confirm call was confirmed with its phrase, not only approved.
    [{ state: 'succeeded', level: 'confirm', confirmPhrase: 'orders', ...at, outcome: 'succeeded' }, /Confirmed by <@UBOB000001> at <!date[^>]+> — succeeded/],
  ];
  for (const [fields, pattern] of cases) {
    const card = renderCard(approval(fields), noRedact);
    assert.equal(buttons(card.blocks).length, 0, `${fields?.state} has no buttons`);
    assert.match(text(card.blocks), pattern);
    assert.match(statusLine(approval(fields), noRedact), pattern);
    assert.doesNotMatch(text(card.blocks), /Decide by/);
  }
});

test('bidi overrides, zero-width and other control or format characters are shown as \\u escapes', () => {
  const sneaky = approval({
    level: 'confirm',
    inputJson: JSON.stringify({ service: 'staging\u202E\u2066 - prod', ns: 'a\u200bb', tag: 'x\u{E0041}y' }),
    toolDescription: 'Restart\u200d a\u2067 service',
    confirmPhrase: 'prod\u202Eapi',
  });
  const card = renderCard(sneaky, noRedact);
  const all = JSON.stringify(card);
  assert.doesNotMatch(all, /[\u202A-\u202E\u2066-\u2069\u200C\u200D\u{E0000}-\u{E007F}]/u, 'no invisible character reaches the card');
  assert.match(inputSection(card.blocks), /"staging\\u202E\\u2066 - prod"/);
  assert.match(inputSection(card.blocks), /"a\\u200Bb"/);
  assert.match(inputSection(card.blocks), /"x\\u\{E0041\}y"/);
  assert.match(text(card.blocks), /Restart\\u200D a\\u2067 service/);
  assert.match(text(card.blocks), /prod\\u202Eapi/);
  const lines = fullInputMessages(sneaky, noRedact).join('\n');
  assert.match(lines, /staging\\u202E\\u2066 - prod/);
  assert.doesNotMatch(lines, /[\u202E\u2066]/);
  const multiLine = renderCard(approval({ inputJson: 'not json\n\tindented\u0007' }), noRedact);
  assert.match(inputSection(multiLine.blocks), /not json\n\tindented\\u0007/, 'newlines and tabs are kept');
});

test('a decision made off Slack says where it came from; one made in Slack or by the system adds nothing', () => {
  const at = { decider: 'UBOB000001', decidedAt: '2025-01-01T00:01:00.000Z' };
  const line = (fields: Parameters<typeof approval>[0]): string => statusLine(approval(fields), noRedact);
  assert.match(line({ state: 'approved', ...at, decidedVia: 'cli' }), /^:arrow_forward: Approved by <@UBOB000001> \(from the command line\) at <!date/);
  assert.match(line({ state: 'denied', ...at, decidedVia: 'terminal' }), /Denied by <@UBOB000001> \(from the terminal\) at /);
  assert.match(line({ state: 'succeeded', ...at, decidedVia: 'slack' }), /Approved by <@UBOB000001> at <!date[^>]+> — succeeded$/);
  assert.match(line({ state: 'succeeded', ...at, decidedVia: null }), /Approved by <@UBOB000001> at /);
  assert.doesNotMatch(line({ state: 'expired', decidedAt: at.decidedAt, decidedVia: 'system' }), /\(|system/);
  assert.match(line({ state: 'approved', ...at, decidedVia: 'pager <!channel>' }), /Approved by <@UBOB000001> \(via pager &lt;!channel&gt;\) at /);
  assert.match(line({ state: 'approved', ...at, decidedVia: 'constructor' }), /\(via constructor\)/, 'no prototype key passes for a known source');
});

test('an operator at a terminal (local:alice) is named in plain text, never as a Slack mention', () => {
  const card = renderCard(approval({ state: 'approved', decider: 'local:alice', decidedAt: '2025-01-01T00:01:00.000Z', decidedVia: 'cli' }), noRedact);
  assert.match(text(card.blocks), /Approved by local:alice \(from the command line\) at /);
  assert.match(card.text, /Approved by local:alice/);
  assert.doesNotMatch(JSON.stringify(card), /<@local|<@alice/);
  assert.doesNotMatch((card.blocks[0]!.text as { text: string }).text, /<@/, 'the status line mentions nobody');
  const forged = statusLine(approval({ state: 'denied', decider: 'local:<@UBOSS> <!here>', decidedAt: '2025-01-01T00:01:00.000Z', decidedVia: 'terminal' }), noRedact);
  assert.doesNotMatch(forged, /<@UBOSS>|<!here>/);
  assert.match(forged, /Denied by local:&lt;@UBOSS&gt; &lt;!here&gt; \(from the terminal\)/);
});

test('an unknown outcome tells people to check before retrying; a cancellation shows its reason', () => {
  assert.match(statusLine(approval({ state: 'unknown', outcome: null }), noRedact), /^:warning: Outcome unknown — check before retrying/);
  assert.match(statusLine(approval({ state: 'cancelled', reason: 'the approval expired while mithai was down' }), noRedact), /Cancelled \(the approval expired while mithai was down\), not run/);
});
