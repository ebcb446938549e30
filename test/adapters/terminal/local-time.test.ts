/**
 * The terminal shows times in the reader's time zone (TZ), not UTC: a deadline is read at a
 * glance, with the time left beside it.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { localDeadline, localTime } from '../../../src/adapters/terminal/local-time.ts';
import { describeApproval, describeState } from '../../../src/adapters/terminal/approval-text.ts';
import { approval } from '../../fixtures/approval.ts';

/** Asia/Kolkata is UTC+05:30 all year (no daylight saving), so the expectations are fixed. */
function inKolkata(t: TestContext): void {
  const before = process.env.TZ;
  process.env.TZ = 'Asia/Kolkata';
  t.after(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
}

const NOW = Date.parse('2025-06-01T10:00:00.000Z'); // 15:30 in Kolkata

test('a time today is the local clock time; on another local day it carries the date', (t) => {
  inKolkata(t);
  assert.equal(localTime('2025-06-01T10:05:00.000Z', NOW), '15:35:00');
  assert.equal(localTime('2025-06-01T19:00:00.000Z', NOW), '2025-06-02 00:30:00', 'after local midnight is tomorrow, though still the same UTC day');
  assert.equal(localTime('not a time', NOW), 'not a time');
});

test('a deadline says how long is left, or that it passed', (t) => {
  inKolkata(t);
  assert.equal(localDeadline('2025-06-01T10:05:00.000Z', NOW), '15:35:00 (in 5 min)');
  assert.equal(localDeadline('2025-06-01T10:00:30.000Z', NOW), '15:30:30 (in 30 s)');
  assert.equal(localDeadline('2025-06-01T13:10:00.000Z', NOW), '18:40:00 (in 3 h 10 min)');
  assert.equal(localDeadline('2025-06-01T09:59:00.000Z', NOW), '15:29:00 (passed)');
});

test('the approval request and its states show local times, not the stored UTC ones', (t) => {
  inKolkata(t);
  const deadline = new Date(Date.now() + 5 * 60_000);
  const a = approval({ deadline: deadline.toISOString() });
  const shown = describeApproval(a, (s) => s);
  assert.match(shown, /decide by (\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2} \(in 5 min\)/);
  assert.ok(!shown.includes(a.deadline), 'the ISO deadline is not printed');
  const local = new Date(deadline.getTime() + 330 * 60_000).toISOString().slice(11, 19);
  assert.ok(shown.includes(local), `the deadline ${a.deadline} is ${local} in Kolkata: ${shown}`);
  assert.match(describeState({ ...a, state: 'approved', decider: 'alice', decidedAt: deadline.toISOString() }), new RegExp(`approved by alice at (\\d{4}-\\d{2}-\\d{2} )?${local}$`));
});
