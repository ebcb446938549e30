/**
 * Kill -9 at each crash point from the click on (decision, ack, claim, tool, outcome, reply),
 * restart, drive to the end: an approved call runs once (or is `unknown` when it was cut off,
 * never re-run), every decision has one audit record, every card ends final, the thread is told.
 * Also: approved but not started, and restarted after its validity window: cancelled, never run.
 */
import { test } from 'node:test';
import { killPointScenario } from './kill-point-scenario.ts';

for (const point of ['decision.committed', 'click.acked', 'claim.committed', 'tool.returned', 'outcome.committed', 'reply.decided', 'reply.posted']) {
  test(`kill -9 at ${point}, restart: the approve flow ends once, recorded, told`, (t) => killPointScenario(t, point));
}
