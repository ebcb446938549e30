/**
 * Review finding (src/audit/audit-log.ts writeAfterCommit / #coveredBySync, ab621fa): an auto
 * call's outcome committed with its turn's results (sync: false) is held back from
 * approvals.json and a barrier is scheduled to write it within AUDIT_SYNC_DELAY_MS. A later
 * commit that waits for the disk but appends no audit record — here `engine.accept` of the
 * next message (its receipt and turn row) — calls writeAfterCommit(true): #coveredBySync
 * clears #unsyncedFrom AND cancels the barrier, and since #isDirty is false nothing is
 * written. The outcome then stays out of the file until some later record happens to be
 * written (or close/exit flushes): a quiet channel leaves the audit trail without the outcome
 * of a tool that ran, indefinitely, while the docs promise "at the latest, until the sync
 * delay has passed".
 *
 * What must hold: an outcome committed with a turn's results is in approvals.json within the
 * sync delay (plus a margin), whatever other commits happen meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { AUDIT_SYNC_DELAY_MS } from '../../src/audit/audit-log.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { startEngine } from '../engine/engine-harness.ts';

test('an auto call\'s outcome reaches approvals.json within the sync delay even when the next message is accepted meanwhile', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'hi' }, 'toolu_note')), reply('Noted.')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('note hi'))!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'finished');
  assert.deepEqual(h.effects(), ['note hi']);

  // Another message arrives in another thread: a commit that waits for the disk, with no audit record.
  h.runtime.engine.accept(h.turn('later', { conversation: { platform: 'slack', team: 'T1', channel: 'C1', thread: '1700000000.000200' } }));

  await new Promise((r) => setTimeout(r, AUDIT_SYNC_DELAY_MS + 500));
  const head = new AuditStore(h.runtime.db).head()!;
  const inFile = h.audit().filter((r) => r.call_id === 'toolu_note').map((r) => `${String(r.event)}:${String(r.status)}`);
  assert.deepEqual(
    inFile,
    ['decision:executing', 'outcome:succeeded'],
    `${AUDIT_SYNC_DELAY_MS + 500} ms after the tool ran, approvals.json has ${h.audit().length} of the ${head.seq} committed records; the outcome is only in the database`,
  );
});
