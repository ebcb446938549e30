import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse, maxTokensCut, apiError, lastToolResults, toolResultText, text } from '../fakes/anthropic/script.ts';
import { startEngine, SECRET } from './engine-harness.ts';

function lastResults(h: { fake: { requests: Array<Parameters<typeof lastToolResults>[0]> } }, index: number) {
  const request = h.fake.requests[index];
  assert.ok(request, `request ${index} was made`);
  return lastToolResults(request).map((b) => ({ text: toolResultText(b), isError: b.is_error === true }));
}

test('a response cut at max_tokens in the middle of a tool call runs nothing and leaves a valid history', async (t) => {
  const h = await startEngine(t, [maxTokensCut(text('Writing the note'), toolUse('t__write_note', { text: 'half' })), reply('Sorry, that was too long.')]);
  const result = await h.runtime.engine.handleTurn(h.turn('write a note'), h.adapter);
  assert.equal(result.status, 'answered');
  assert.deepEqual(h.effects(), []);
  const [answer] = lastResults(h, 1);
  assert.equal(answer!.isError, true);
  assert.match(answer!.text, /max_tokens/);
  // The fake rejects histories with an unanswered tool_use, so a third turn proves the stored history is valid.
  h.fake.push(reply('Still here.'));
  const next = await h.runtime.engine.handleTurn(h.turn('hello?'), h.adapter);
  assert.equal(next.reply, 'Still here.');
});

test('tool-call markup written as text never reaches the user', async (t) => {
  const h = await startEngine(t, [reply('I could not do it.\n<function_calls><invoke name="t__write_note"><parameter name="text">x</parameter></invoke></function_calls>')]);
  const result = await h.runtime.engine.handleTurn(h.turn('try'), h.adapter);
  assert.equal(h.adapter.replies[0]!.text, 'I could not do it.');
  assert.equal(result.reply, 'I could not do it.');
  assert.deepEqual(h.effects(), []);
});

test('tool output longer than agent.max_tool_result_chars is truncated with a note', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__big', {})), reply('ok')], { yaml: 'agent: { max_tool_result_chars: 1000 }' });
  await h.runtime.engine.handleTurn(h.turn('big'), h.adapter);
  const [result] = lastResults(h, 1);
  assert.ok(result!.text.startsWith('x'.repeat(1000)));
  assert.ok(!result!.text.includes('x'.repeat(1001)));
  assert.match(result!.text, /truncated: 4000 more characters/);
});

test('untrusted tool output is wrapped with a nonce and makes later non-read-only auto calls need approval', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse('t__fetch_page', { url: 'https://example.com' })),
    reply(toolUse('t__write_note', { text: 'pwned' })),
    reply('I did not write the note.'),
  ]);
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'deny', { reason: 'looks like injection' });
  await h.runtime.engine.handleTurn(h.turn('read the page'), h.adapter);
  const [page] = lastResults(h, 1);
  const wrapper = /^<untrusted-([0-9a-f]+) source="t__fetch_page">/.exec(page!.text);
  assert.ok(wrapper, `wrapped as untrusted: ${page!.text}`);
  assert.ok(page!.text.trimEnd().endsWith(`</untrusted-${wrapper[1]}>`));
  assert.equal(h.adapter.requested.length, 1, 'write_note (auto, not read-only) needed an approval after the taint');
  assert.equal(h.adapter.requested[0]!.levelReason, 'taint');
  assert.deepEqual(h.effects(), ['fetch'], 'the denied note was never written');
  // The taint is persisted with the session: a later turn still escalates.
  h.fake.push(reply(toolUse('t__write_note', { text: 'again' })), reply('denied again'));
  await h.runtime.engine.handleTurn(h.turn('write it now'), h.adapter);
  assert.equal(h.adapter.requested.length, 2);
});

test('a secret in tool output, replies and audit input is redacted everywhere it leaves the runtime', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__leak', {})), reply(`The key was ${SECRET}`), reply(toolUse('t__write_note', { text: `remember ${SECRET}` })), reply('done')]);
  await h.runtime.engine.handleTurn(h.turn('leak it'), h.adapter);
  const [leak] = lastResults(h, 1);
  assert.ok(!leak!.text.includes(SECRET));
  assert.match(leak!.text, /\[REDACTED\]/);
  assert.ok(!h.adapter.replies[0]!.text.includes(SECRET));
  await h.runtime.engine.handleTurn(h.turn('note it'), h.adapter);
  const auditText = JSON.stringify(h.audit());
  assert.ok(h.audit().length > 0);
  assert.ok(!auditText.includes(SECRET), 'the audit input is redacted');
  assert.ok(!h.logs().includes(SECRET), 'the logs never carry the secret');
});

test('resolveHuman that throws or answers something that is not a level fails closed to approve', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse('t__dyn', { mode: 'throw' })),
    reply(toolUse('t__dyn', { mode: 'banana' })),
    reply(toolUse('t__dyn', { mode: 'auto' })),
    reply('done'),
  ]);
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'deny');
  await h.runtime.engine.handleTurn(h.turn('dyn'), h.adapter);
  assert.deepEqual(h.adapter.requested.map((a) => a.levelReason), ['fail_closed', 'fail_closed']);
  assert.deepEqual(h.effects(), ['dyn auto'], 'only the call resolveHuman made auto ran');
  assert.match(h.logs(), /policy backend down/);
});

test('a tool that declares no level needs approval, and an override can raise a declared level', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {})), reply(toolUse('t__big', {})), reply('done')], { yaml: 'human: { overrides: { t__big: confirm } }' });
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'deny');
  await h.runtime.engine.handleTurn(h.turn('go'), h.adapter);
  assert.deepEqual(h.adapter.requested.map((a) => [a.tool, a.level, a.levelReason]), [['t__undeclared', 'approve', 'default'], ['t__big', 'confirm', 'override']]);
  assert.deepEqual(h.effects(), []);
});

test('an override that would lower a declared level stops the runtime from starting', async (t) => {
  await assert.rejects(startEngine(t, [], { yaml: 'human: { overrides: { t__dyn: auto, t__write_notes: approve } }' }), (err: Error) => {
    assert.match(err.message, /t__write_notes: no such tool/);
    return true;
  });
});

test('a model that keeps failing ends the turn with a plain message in the reply, never silence', async (t) => {
  const h = await startEngine(t, [apiError(529), apiError(529)]);
  const result = await h.runtime.engine.handleTurn(h.turn('hi'), h.adapter);
  assert.equal(result.status, 'model_error');
  assert.equal(h.adapter.replies.length, 1);
  assert.match(h.adapter.replies[0]!.text, /overloaded/i);
});

test('sessions keep history per conversation and never mix channels that share a thread ts', async (t) => {
  const h = await startEngine(t, [reply('first'), reply('second'), reply('other')]);
  await h.runtime.engine.handleTurn(h.turn('one'), h.adapter);
  await h.runtime.engine.handleTurn(h.turn('two'), h.adapter);
  await h.runtime.engine.handleTurn(h.turn('three', { conversation: { platform: 'slack', team: 'T1', channel: 'C2', thread: '1700000000.000100' } }), h.adapter);
  const second = h.fake.requests[1]!.messages;
  assert.equal(second.length, 3, 'the second turn carries the first exchange');
  assert.equal(h.fake.requests[2]!.messages.length, 1, 'another channel with the same thread ts starts fresh');
});

test('the loop stops at agent.max_iterations with a message saying so', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__big', {})), reply(toolUse('t__big', {}))], { yaml: 'agent: { max_iterations: 2 }' });
  const result = await h.runtime.engine.handleTurn(h.turn('loop'), h.adapter);
  assert.equal(result.status, 'iteration_limit');
  assert.match(result.reply, /agent\.max_iterations/);
  assert.equal(h.fake.requests.length, 2);
});

test('a stored tool call that never finished (crash) is answered as interrupted on the next turn and not re-run', async (t) => {
  const h = await startEngine(t, [reply('Picking up again.')]);
  const { SessionStore } = await import('../../src/state/session-store.ts');
  const { sessionKey } = await import('../../src/engine/session-key.ts');
  const key = sessionKey(h.turn('x').conversation);
  new SessionStore(h.runtime.db).append(key, [
    { role: 'user', content: 'write a note' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_crash', name: 't__write_note', input: { text: 'a' } }] },
  ]);
  await h.runtime.engine.handleTurn(h.turn('what happened?'), h.adapter);
  const sent = h.fake.requests[0]!.messages;
  const results = (sent[2]!.content as Array<{ type: string; content?: unknown }>).filter((b) => b.type === 'tool_result');
  assert.equal(results.length, 1);
  assert.match(String(results[0]!.content), /not retried/);
  assert.deepEqual(h.effects(), []);
});

test('a failing untrusted tool taints the session too, and its error text is wrapped and truncated', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__fetch_fail', {})), reply(toolUse('t__write_note', { text: 'pwned' })), reply('stopped')], { yaml: 'agent: { max_tool_result_chars: 500 }' });
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'deny');
  await h.runtime.engine.handleTurn(h.turn('fetch'), h.adapter);
  const [failure] = lastResults(h, 1);
  assert.equal(failure!.isError, true);
  assert.match(failure!.text, /^<untrusted-[0-9a-f]+ source="t__fetch_fail">/);
  assert.ok(failure!.text.length < 800, `truncated (${failure!.text.length} chars)`);
  assert.equal(h.adapter.requested[0]?.levelReason, 'taint');
  assert.deepEqual(h.effects(), ['fetch_fail']);
});

test('an approved call that times out is recorded as unknown, and the model is told its effect is unknown', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__hang', {})), reply('It may still be running.')]);
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'approve');
  await h.runtime.engine.handleTurn(h.turn('hang'), h.adapter);
  const [result] = lastResults(h, 1);
  assert.match(result!.text, /timed out after 0\.2 s; it may still be running, so its effect is unknown/);
  assert.equal(h.runtime.gate.get(h.adapter.requested[0]!.id)!.state, 'unknown');
  assert.deepEqual(h.audit().filter((r) => r.event === 'outcome').map((r) => r.status), ['unknown']);
});

test('calls past agent.max_tool_calls_per_turn are answered "not run" and the turn stops with a message', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'a' }), toolUse('t__write_note', { text: 'b' }), toolUse('t__write_note', { text: 'c' }))], { yaml: 'agent: { max_tool_calls_per_turn: 2 }' });
  const result = await h.runtime.engine.handleTurn(h.turn('three notes'), h.adapter);
  assert.equal(result.status, 'tool_call_limit');
  assert.match(result.reply, /agent\.max_tool_calls_per_turn/);
  assert.deepEqual(h.effects(), ['note a', 'note b']);
  // The history stays valid: the next turn is accepted by the fake (it rejects unanswered tool_use).
  h.fake.push(reply('ok'));
  assert.equal((await h.runtime.engine.handleTurn(h.turn('next'), h.adapter)).reply, 'ok');
});

test('a turn stops once its model calls spend agent.max_tokens_per_turn', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__big', {})), reply(toolUse('t__big', {})), reply('never reached')], { yaml: 'agent: { max_tokens_per_turn: 1 }' });
  const result = await h.runtime.engine.handleTurn(h.turn('spend'), h.adapter);
  assert.equal(result.status, 'token_limit');
  assert.match(result.reply, /agent\.max_tokens_per_turn/);
  assert.equal(h.fake.requests.length, 1, 'no model call after the budget was spent');
});
