/**
 * Review finding (audit flush after commit: create-runtime.ts transactor, tool-call-router.ts
 * openGated): "Call flush before acting on a record; if it throws, do not act" (src/audit/
 * README.md). The runtime's transactor swallows the flush that follows the commit of a
 * `requested` record, and openGated goes on to post the approval card anyway. So when the
 * audit file cannot be written (here: it ends in a torn line, so every flush refuses with
 * audit_torn), an approval card is put in front of people for a request that is not in the
 * audit file, and a click on it is taken and acked as a decision that is not in the file
 * either. (runAuto, for the same failure, refuses: "did not run: the audit log could not be
 * written".) Nothing runs — dispatchDecided flushes again — but the request reached a card
 * without being in the file first.
 *
 * What must hold: a gated call whose `requested` record is not in the audit file is not shown
 * as an approval card (it is answered "not run: the audit log could not be written" and its
 * pending row is cancelled, as for a card that could not be shown).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, CHANNEL, cards, lastUserText, startSlackHarness, textReplies, waitFor } from '../e2e/slack-harness.ts';

test('no approval card is posted for a request the audit file does not have', async (t) => {
  const h = await startSlackHarness(t, {
    script: [reply(toolUse('ops__restart', { service: 'api' })), (req) => reply(`Told: ${lastUserText(req)}`)],
  });
  // The audit file now ends in a torn line: every flush refuses (audit_torn) until it is repaired.
  const file = join(h.dir, 'memory', 'approvals.json');
  appendFileSync(file, '{"v":1,"seq":');

  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const outcome = await waitFor(
    'a card or a reply',
    () => (cards(h.slack, CHANNEL, sent.ts).length > 0 ? 'card' : textReplies(h.slack, CHANNEL, sent.ts).some((r) => r.startsWith('Told')) ? 'reply' : undefined),
    10_000,
  );
  const inFile = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"event":"requested"')).length;
  assert.equal(outcome, 'reply', `an approval card was posted although the file has ${inFile} requested record(s) (the flush after the commit failed: ${/audit\.flush_failed/.test(h.logs())})`);
  assert.deepEqual(h.effects(), []);
});
