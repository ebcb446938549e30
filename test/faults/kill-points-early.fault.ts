/**
 * Kill -9 at each crash point up to the card (the message, its model response, the approval and
 * its card), restart, drive to the end: a mention recorded but not answered is answered after
 * the restart, the pending approval's card works (or is posted), a click runs the tool once.
 */
import { test } from 'node:test';
import { killPointScenario } from './kill-point-scenario.ts';

for (const point of ['turn.accepted', 'event.acked', 'model.responded', 'approval.opened', 'card.posted']) {
  test(`kill -9 at ${point}, restart: the approve flow ends once, recorded, told`, (t) => killPointScenario(t, point));
}
