/**
 * Kill -9 at each crash point from the click on (decision, ack, claim, tool, outcome, final response, reply),
 * restart, drive to the end: an approved call runs once (or is `unknown` when it was cut off,
 * never re-run), every decision has one audit record, every card ends final, the thread is told.
 * Also: approved but not started, and restarted after its validity window: cancelled, never run.
 */
import { test } from 'node:test';
import { killPointScenario } from './kill-point-scenario.ts';
import { waitFor } from './fault-harness.ts';

// model.responded:2 is the final response, committed with the reply it decides.
for (const point of ['decision.committed', 'click.acked', 'claim.committed', 'tool.returned', 'outcome.committed', 'model.responded:2', 'reply.decided', 'reply.posted']) {
  test(`kill -9 at ${point}, restart: the approve flow ends once, recorded, told`, (t) => killPointScenario(t, point));
}

test('approved, killed before the claim, restarted after human.approval_valid_seconds: cancelled, never run, told', (t) =>
  killPointScenario(t, 'decision.committed', {
    name: 'approved, restarted after its validity window',
    project: { human: ["approvers: ['local:*']", 'approval_valid_seconds: 1'] },
    expected: [{ effects: [], state: 'cancelled', told: [/cancelled at restart/, /^Told: .*approved by .* but cancelled before it started/s] }],
    whileDown: async (p) => {
      const validUntil = p.approvals()[0]?.valid_until;
      if (!validUntil) throw new Error('the approval was not approved before the kill');
      await waitFor('the validity window to pass', () => Date.now() > Date.parse(validUntil) + 50, 5_000);
    },
  }));
