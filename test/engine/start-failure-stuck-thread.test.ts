/**
 * A step whose state write fails (SQLITE_BUSY while another process holds the write lock,
 * SQLITE_FULL) must never leave its thread silent: the rows are as they were before the step, so
 * the engine tries it again with backoff and, after too many failures, answers the thread plainly;
 * turns queued behind it then run. A queued turn is told it waits for an earlier request, never for
 * an approval that does not exist.
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
