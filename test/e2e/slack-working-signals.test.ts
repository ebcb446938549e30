/**
 * Working signals (👀 and progress in the thread) appear only once a turn has worked long enough
 * for a person to notice, through the real Bolt app and the fake Slack. The rules: a turn that
 * answers before the delay gets its answer and ✅ and nothing else (no 👀 to add or remove, no
 * status message, no assistant status); a turn still working after the delay gets 👀 and its
 * progress, then 👀 is swapped for ✅ (removed before ✅ is added) and the progress ends as a summary.
 *
 * "Fast" and "slow" are made certain rather than timed: the fast turn runs under a delay no turn
 * here reaches; the slow one runs a tool that waits until the test has seen the signals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { PROGRESS_EVENT_TYPE } from '../../src/adapters/slack/progress-display.ts';
import { ALICE, CHANNEL, botReplies, startSlackHarness, textReplies, waitFor } from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

/** `ops__status` answers at once; `ops__wait` answers once the gate file next to effects.log exists. */
function tools(effectsFile: string): string {
  return `
import { appendFileSync, existsSync } from 'node:fs';
import { defineSkill, defineTool, z } from 'mithai';
const effect = (line) => appendFileSync(${JSON.stringify(effectsFile)}, line + '\\n');
const gate = ${JSON.stringify(`${effectsFile}.gate`)};
export default defineSkill({
  tools: {
    status: defineTool({ description: 'Show service status', human: 'auto', readOnly: true,
      input: z.object({}), handle: async () => { effect('status'); return 'all green'; } }),
    wait: defineTool({ description: 'Wait for the gate', human: 'auto', readOnly: true,
      input: z.object({}), handle: async () => { effect('wait started'); while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 10)); effect('wait finished'); return 'waited'; } }),
  },
});
`;
}

/** A status message (or the arguments of its post), told by its metadata. */
const isProgress = (m: { metadata?: unknown }): boolean => (m.metadata as { event_type?: string } | undefined)?.event_type === PROGRESS_EVENT_TYPE;
const reactionCalls = (h: SlackHarness): Array<[string, unknown]> => h.slack.calls.filter((c) => c.method.startsWith('reactions.')).map((c) => [c.method, c.args.name]);
const progressCalls = (h: SlackHarness) => h.slack.calls.filter((c) => c.method === 'chat.update' || c.method === 'assistant.threads.setStatus' || (c.method === 'chat.postMessage' && isProgress(c.args)));

test('a fast turn shows only its answer and ✅: no 👀 added or removed, no progress written', async (t) => {
  const h = await startSlackHarness(t, {
    tools,
    slack: ['progress: auto'],
    script: [reply(toolUse('ops__status', {})), reply('All green.')],
    service: { workingSignalDelayMs: 60_000 },
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'status?' });
  await waitFor('the ✅ reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'white_check_mark'), 10_000);
  assert.deepEqual(h.effects(), ['status'], 'a tool ran (progress had something to show)');
  assert.deepEqual(botReplies(h.slack, CHANNEL, sent.ts).map((m) => m.text), ['All green.'], 'the answer alone in the thread');
  assert.deepEqual(reactionCalls(h), [['reactions.add', 'white_check_mark']]);
  assert.deepEqual(progressCalls(h).map((c) => c.method), [], 'no status message, no edit, no assistant status');
  assert.deepEqual(h.slack.validationErrors, []);
});

test('a slow turn gets 👀 and its progress once the delay has passed; at the end 👀 is removed, then ✅ added, and the progress summarised', async (t) => {
  const h = await startSlackHarness(t, {
    tools,
    slack: ['progress: message'],
    script: [reply(toolUse('ops__wait', {})), reply('Waited.')],
    service: { workingSignalDelayMs: 50, progressIntervalMs: 30 },
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'wait for it' });
  await waitFor('the tool running', () => h.effects().includes('wait started'), 10_000);
  await waitFor('the 👀 reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'eyes'), 5_000);
  const shown = await waitFor('the status message', () => botReplies(h.slack, CHANNEL, sent.ts).find(isProgress), 5_000);
  assert.equal(shown.text, ':hourglass_flowing_sand: running `ops__wait`…');
  assert.deepEqual(textReplies(h.slack, CHANNEL, sent.ts), [shown.text], 'no answer yet');

  writeFileSync(`${h.dir}/effects.log.gate`, '');
  await waitFor('the ✅ reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'white_check_mark'), 10_000);
  assert.deepEqual(reactionCalls(h), [['reactions.add', 'eyes'], ['reactions.remove', 'eyes'], ['reactions.add', 'white_check_mark']]);
  assert.deepEqual(h.slack.reactions(CHANNEL, sent.ts).map((r) => r.name), ['white_check_mark'], 'no 👀 left behind');
  const summary = await waitFor('the summary', () => botReplies(h.slack, CHANNEL, sent.ts).find((m) => isProgress(m) && m.text.startsWith('Used')), 5_000);
  assert.equal(summary.text, 'Used `ops__wait`.');
  assert.deepEqual(botReplies(h.slack, CHANNEL, sent.ts).map((m) => (isProgress(m) ? 'progress' : m.text)), ['progress', 'Waited.']);
  assert.equal(h.slack.callsTo('chat.postMessage').filter((c) => isProgress(c.args)).length, 1, 'one status message');
  assert.deepEqual(h.slack.validationErrors, []);
});
