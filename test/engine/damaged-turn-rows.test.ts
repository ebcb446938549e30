/**
 * Damaged turn rows fail closed without stopping anything else: a turn whose stored JSON does not
 * decode, or whose state is unknown, never stops a start (every other thread is still served) and
 * never holds its thread's queue; it is quarantined and logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply } from '../fakes/anthropic/script.ts';
import { startEngine } from './engine-harness.ts';

async function waitUntil(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('a running turn with an undecodable turn_json does not stop the start; the other threads are served', async (t) => {
  const h = await startEngine(t, [reply('healthy thread answered')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const bad = h.runtime.engine.accept(h.turn('one', { conversation: { platform: 'slack', team: 'T1', channel: 'C1', thread: '1.1' } }))!;
  const good = h.runtime.engine.accept(h.turn('two', { conversation: { platform: 'slack', team: 'T1', channel: 'C2', thread: '2.2' } }))!;
  h.runtime.db.prepare("UPDATE turns SET state = 'running', turn_json = '{\"conversation\":' WHERE id = ?").run(bad);
  await assert.doesNotReject(h.runtime.engine.resumeAll(), 'one damaged row makes every start fail');
  assert.ok(await waitUntil(() => h.adapter.replies.length === 1), 'the healthy turn was answered');
  assert.equal(h.runtime.turns.get(good)?.state, 'done');
});

test('a turn row with an unknown state does not stop the start', async (t) => {
  const h = await startEngine(t, [reply('healthy thread answered')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const bad = h.runtime.engine.accept(h.turn('one', { conversation: { platform: 'slack', team: 'T1', channel: 'C1', thread: '1.1' } }))!;
  h.runtime.engine.accept(h.turn('two', { conversation: { platform: 'slack', team: 'T1', channel: 'C2', thread: '2.2' } }))!;
  h.runtime.db.prepare("UPDATE turns SET state = 'resuming' WHERE id = ?").run(bad);
  await assert.doesNotReject(h.runtime.engine.resumeAll(), 'one row with a state this version does not know makes every start fail');
  assert.ok(await waitUntil(() => h.adapter.replies.length === 1), 'the healthy turn was answered');
});

test('an accepted turn that cannot be decoded does not hold its thread forever', async (t) => {
  const h = await startEngine(t, [reply('second message answered')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const bad = h.runtime.engine.accept(h.turn('first'))!;
  h.runtime.db.prepare("UPDATE turns SET turn_json = 'not json' WHERE id = ?").run(bad);
  assert.equal((await h.runtime.engine.run(bad)).kind, 'finished');
  const next = h.runtime.engine.accept(h.turn('second'))!;
  const step = await h.runtime.engine.run(next);
  const notices = h.adapter.notices.map((n) => n.text);
  assert.notEqual(step.kind, 'queued', `the next message is queued behind a turn that can never run; told: ${notices.join(' | ')}`);
  assert.ok(await waitUntil(() => h.adapter.replies.length >= 1), 'the thread never answers again');
});
