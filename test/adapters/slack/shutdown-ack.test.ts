/**
 * A message that arrives while `mithai run` shuts down is either recorded before it is acknowledged
 * (and runs at the next start) or left unacknowledged for Slack to deliver again: never acked and
 * lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../../engine/engine-harness.ts';
import { dispatcherFront } from './dispatcher-front.ts';

test('a message arriving during shutdown is either recorded or left unacknowledged', async (t) => {
  const h = await startEngine(t, []);
  const front = dispatcherFront(h.runtime.engine);

  front.dispatcher.stopAccepting(); // slack-service stop(), step 1
  await front.deliver('Ev1', '<@UBOT> restart web please');

  const recorded = h.runtime.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM turns').get()!.n;
  assert.ok(front.acks() === 0 || recorded === 1, `acked ${front.acks()} time(s) but recorded ${recorded} turn(s): the message is lost (told: ${front.ephemerals.join(' | ')})`);
});
