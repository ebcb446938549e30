/**
 * Review 2 repro (a silent thread after a failed start). TurnRunner.step calls #start outside
 * its try (turn-runner.ts: `turn = await this.#start(...)` before `try { return await this.#loop`).
 * A one-off failure of the start transaction (SQLITE_BUSY while `mithai approvals approve`
 * holds the write lock, SQLITE_FULL) throws out of the step; Engine.#step logs
 * `turn.step_failed` and returns `paused`. The turn stays `accepted` with nothing that will ever
 * move it while this process serves (pollDecisions looks at `waiting` turns only), no reply is
 * posted, and every later message in the thread is queued behind it — told it waits "on an
 * approval" that does not exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply } from '../fakes/anthropic/script.ts';
import { startEngine } from './engine-harness.ts';

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('a one-off write failure while a turn starts does not leave it (and its thread) silent for good', async (t) => {
  const h = await startEngine(t, [reply('first answered'), reply('second answered')]);
  const sessions = h.runtime.sessions;
  const original = sessions.append.bind(sessions);
  let failOnce = true;
  sessions.append = ((...args: Parameters<typeof sessions.append>) => {
    if (failOnce) {
      failOnce = false;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    return original(...args);
  }) as typeof sessions.append;

  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const first = h.runtime.engine.accept(h.turn('first'))!;
  await h.runtime.engine.run(first);
  // Everything that serves a running process: the decision poll, and the next message.
  h.runtime.engine.pollDecisions();
  const second = h.runtime.engine.accept(h.turn('second'))!;
  const step = await h.runtime.engine.run(second);
  await waitUntil(() => h.adapter.replies.length >= 1);

  const notices = h.adapter.notices.map((n) => n.text);
  assert.ok(
    h.adapter.replies.length >= 1,
    `no reply at all: first turn is '${h.runtime.turns.get(first)?.state}', the second is '${step.kind}', and the thread was told: ${JSON.stringify(notices)}`,
  );
});
