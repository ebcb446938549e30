/**
 * A model response with calls is stored by the first commit of its calls (an auto call's
 * decision, an approval, an answer), not by a commit of its own before them. What must hold:
 * - a crash inside that commit undoes the response with the decision: the next start asks the
 *   model again, the tool runs once, and the thread's history holds the call once;
 * - once that commit is made the response is durable: a crash before the tool runs leaves the
 *   call `executing`, answered unknown at the next start, and the model is not asked for a
 *   fresh response to the message;
 * - a response received but not stored yet still means the model answered: an error before its
 *   first commit does not take the user's message out of the thread.
 * "Crash" is the runtime closed inside the write, as kill -9 there would leave it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastToolResults, reply, toolResultText, toolUse } from '../fakes/anthropic/script.ts';
import type { Message } from '../../src/llm/types.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { restartEngine, startEngine } from './engine-harness.ts';

function toolUsesIn(messages: readonly Message[]): string[] {
  return messages.flatMap((m) => (m.role === 'assistant' && Array.isArray(m.content) ? m.content.filter((b) => b.type === 'tool_use').map((b) => (b as { id: string }).id) : []));
}

test('a crash inside the first call\'s decision commit undoes the response too: the model is asked again and the tool runs once', async (t) => {
  const call = reply(toolUse('t__write_note', { text: 'once' }, 'toolu_first'));
  const h = await startEngine(t, [call, call, reply('Noted.')]);
  const turns = h.runtime.turns;
  const original = turns.updateCall.bind(turns);
  let killed = false;
  turns.updateCall = ((turnId, position, state, fields) => {
    if (state === 'executing' && !killed) {
      killed = true;
      h.runtime.close();
      throw new Error('killed');
    }
    return original(turnId, position, state, fields);
  }) as typeof turns.updateCall;
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('note it'))!;
  await h.runtime.engine.run(id).catch(() => undefined);
  assert.ok(killed, 'the decision commit was reached');
  assert.deepEqual(h.effects(), [], 'nothing ran before the crash');

  const { runtime, adapter } = await restartEngine(t, h);
  // The response went with the rolled-back decision: the turn has no calls to carry on.
  assert.equal(runtime.turns.listCalls(id).length, 0);
  await runtime.engine.resumeAll();
  await waitFor('the reply after the restart', () => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), ['note once']);
  assert.equal(h.fake.calls.length, 3, 'asked again after the crash, then once for the reply');
  const record = runtime.turns.get(id)!;
  assert.deepEqual(toolUsesIn(runtime.sessions.load(record.sessionKey, 100).messages), ['toolu_first'], 'the call is in the history once');
  const decisions = h.audit().filter((r) => r.call_id === 'toolu_first' && r.event === 'decision');
  assert.equal(decisions.length, 1);
});

test('once the first call\'s decision is committed the response is durable: a crash before the tool leaves it unknown, never asked again', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'once' }, 'toolu_durable')), reply('Checked.')]);
  const audit = h.runtime.audit;
  const write = audit.write.bind(audit);
  let killed = false;
  audit.write = () => {
    // The decision commit has returned; the tool would start after this write.
    if (!killed) {
      killed = true;
      h.runtime.close();
      throw new Error('killed');
    }
    write();
  };
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('note it'))!;
  await h.runtime.engine.run(id).catch(() => undefined);
  assert.ok(killed, 'the audit write after the decision commit was reached');

  const { runtime, adapter } = await restartEngine(t, h);
  assert.deepEqual(runtime.turns.listCalls(id).map((c) => c.state), ['executing'], 'the response and the decision are on record');
  await runtime.engine.resumeAll();
  await waitFor('the reply after the restart', () => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), [], 'never run');
  assert.equal(h.fake.calls.length, 2, 'the model was not asked for a fresh response');
  assert.match(toolResultText(lastToolResults(h.fake.calls.at(-1)!)[0]!), /outcome is unknown and it was not re-run/);
});

test('a response received but not yet stored still counts as the model answering: an error before its first commit keeps the message in the thread', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'x' }, 'toolu_unstored')), reply('second')]);
  const sessions = h.runtime.sessions;
  const original = sessions.taintSources.bind(sessions);
  let thrown = false;
  // A bug in the first dispatch pass, before any call commit (so before the response is stored).
  sessions.taintSources = ((key: string) => {
    if (!thrown) {
      thrown = true;
      throw new TypeError('a bug');
    }
    return original(key);
  }) as typeof sessions.taintSources;
  const first = await h.runtime.engine.handleTurn(h.turn('first message'), h.adapter);
  assert.equal(first.status, 'internal_error');
  assert.deepEqual(h.effects(), []);
  await h.runtime.engine.handleTurn(h.turn('second message'), h.adapter);
  const sent = JSON.stringify(h.fake.calls[1]!.body?.messages);
  assert.match(sent, /first message/, 'the model accepted the first message: it stays in the thread');
});

/** A request's messages without the prompt-cache markers the model client adds. */
function withoutCacheMarks(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'cache_control' ? undefined : v)));
}

test('every model request of a turn is exactly the history a fresh load gives at that point (the window kept in memory never drifts from the rows)', async (t) => {
  const h = await startEngine(t, [
    reply('Looking.', toolUse('t__write_note', { text: 'a' }, 'toolu_w1')),
    reply(toolUse('t__write_note', { text: 'b' }, 'toolu_w2'), toolUse('t__write_note', { text: 'c' }, 'toolu_w3')),
    reply(toolUse('t__big', {}, 'toolu_w4')),
    reply('All three noted.'),
    reply('Second answer.'),
  ]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const first = h.runtime.engine.accept(h.turn('note three things'))!;
  await h.runtime.engine.run(first);
  const second = h.runtime.engine.accept(h.turn('and now?'))!;
  await h.runtime.engine.run(second);
  assert.deepEqual(h.effects(), ['note a', 'note b', 'note c']);
  const key = h.runtime.turns.get(first)!.sessionKey;
  const stored = h.runtime.sessions.load(key, 100).messages;
  // user, then (assistant, tool results) per response with calls, the reply, the next user message, its reply.
  assert.equal(stored.length, 10);
  const prefixes = [1, 3, 5, 7, 9];
  assert.equal(h.fake.calls.length, prefixes.length);
  h.fake.calls.forEach((call, i) => {
    assert.deepEqual(withoutCacheMarks(call.body?.messages), withoutCacheMarks(stored.slice(0, prefixes[i])), `request ${i + 1} is the stored history before it`);
  });
});
