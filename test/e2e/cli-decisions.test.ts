/**
 * Decisions from the command line while `mithai run` serves: the break-glass path when Slack is
 * down, and the proof that a decision can come from another process. The rules: the CLI decides
 * as `local:<os user>` under the same approver rules; the serving process picks the decision up
 * from the database within about a second and carries the turn on in Slack (the tool runs once,
 * the card says who decided and from where); two processes deciding at once produce one
 * decision and one audit record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { runCli } from './chat-harness.ts';
import { ALICE, CHANNEL, buttonIds, cardText, lastUserText, startSlackHarness, textReplies, waitFor, waitForCard } from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);
const LOCAL = `local:${userInfo().username}`;

function cli(h: SlackHarness, args: string[]) {
  const env = { SLACK_BOT_TOKEN: h.slack.config.botToken, SLACK_APP_TOKEN: h.slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  return runCli(['approvals', ...args, '--config', h.configPath], { cwd: h.dir, env });
}

async function pendingCard(h: SlackHarness, text: string) {
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  const id = await waitFor('the pending approval', () => h.service.runtime.approvals.listByState(['pending'])[0]?.id);
  return { sent, card, id };
}

test('mithai approvals approve from another process: the serving mithai runs the call once and replies in the thread', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: ["local:*"]'], script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, card, id } = await pendingCard(h, 'restart api');
  const run = await cli(h, ['approve', id]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`Approved ${id} \\(ops__restart\\) as ${LOCAL}`));
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
  assert.deepEqual(h.effects(), ['restart api']);
  await waitFor('the final card', () => buttonIds(h.slack.message(CHANNEL, card.ts)).length === 0, 5000);
  assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /from the command line/);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => [r.decision, r.decider]), [['approved', LOCAL]]);
});

test('mithai approvals deny --reason: nothing runs and the model reads the reason', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: ["local:*"]'], script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, id } = await pendingCard(h, 'restart api');
  const run = await cli(h, ['deny', id, '--reason', 'change freeze']);
  assert.equal(run.code, 0, run.stderr);
  const answer = await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
  assert.match(answer, /denied by local:.*Reason: change freeze/);
  assert.deepEqual(h.effects(), []);
});

test('two processes approving the same approval at once: one wins, one audit record, one run', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: ["local:*"]'], script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, id } = await pendingCard(h, 'restart api');
  const [a, b] = await Promise.all([cli(h, ['approve', id]), cli(h, ['approve', id])]);
  assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr}${b.stderr}`);
  assert.match(a.code === 1 ? a.stderr : b.stderr, /Already approved/);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
  assert.deepEqual(h.effects(), ['restart api']);
  assert.equal(h.audit().filter((r) => r.event === 'decision').length, 1);
});

test('the command line follows the approver rules: a local user not in human.approvers cannot decide', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { id } = await pendingCard(h, 'restart api');
  const run = await cli(h, ['approve', id]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^mithai: Only the requester UALICE0001 or an approver listed in human\.approvers can decide this\.\n$/);
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');
});

test('a confirm call needs --phrase from the command line, and the wrong phrase decides nothing', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: ["local:*"]'], script: [reply(toolUse('ops__drop_db', { name: 'orders' })), told] });
  const { sent, id } = await pendingCard(h, 'drop orders');
  const missing = await cli(h, ['approve', id]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /pass --phrase "orders"/);
  const wrong = await cli(h, ['approve', id, '--phrase', 'order']);
  assert.equal(wrong.code, 1);
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');
  const right = await cli(h, ['approve', id, '--phrase', 'orders']);
  assert.equal(right.code, 0, right.stderr);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
  assert.deepEqual(h.effects(), ['drop orders']);
});

test('mithai approvals show prints the call, its input, who asked, its state and its history', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: ["local:*"]'], script: [reply(toolUse('ops__restart', { service: 'api', note: 'after the deploy' })), told] });
  const { sent, id } = await pendingCard(h, 'restart api');
  await cli(h, ['deny', id, '--reason', 'no']);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
  const shown = await cli(h, ['show', id]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^${id}  ops__restart  \\(approve: declared\\)`));
  assert.match(shown.stdout, /state {7}denied/);
  assert.match(shown.stdout, /requested {3}by UALICE0001/);
  assert.match(shown.stdout, new RegExp(`decided {5}by ${LOCAL} \\(cli\\)`));
  assert.match(shown.stdout, /"service": "api"/);
  assert.match(shown.stdout, /"note": "after the deploy"/);
  assert.match(shown.stdout, /#\d+ .* requested pending/);
  assert.match(shown.stdout, /#\d+ .* decision denied not_run by local:/);
  const unknown = await cli(h, ['show', 'apr_nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no approval apr_nope/);
});
