import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StateError } from '../../src/errors.ts';
import type { Message } from '../../src/llm/types.ts';
import { SessionStore } from '../../src/state/session-store.ts';
import { BACKENDS, openTestDatabase } from './open-test-database.ts';

const user = (text: string): Message => ({ role: 'user', content: text });
const assistantText = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }] });
const assistantCall = (id: string): Message => ({
  role: 'assistant',
  content: [{ type: 'text', text: 'checking' }, { type: 'tool_use', id, name: 'k8s__get_pods', input: { namespace: 'prod' } }],
});
const toolResult = (id: string): Message => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }] });

for (const backend of BACKENDS) {
  describe(`SessionStore contract (${backend})`, () => {
    test('an unknown session loads as empty and untainted', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      assert.deepEqual(store.load('slack:T1:C1:1.0'), { messages: [], tainted: false });
    });

    test('appended messages come back in order, across several appends', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      const messages = [user('hi'), assistantCall('toolu_1'), toolResult('toolu_1'), assistantText('3 pods')];
      store.append('s1', messages.slice(0, 2));
      store.append('s1', messages.slice(2));
      assert.deepEqual(store.load('s1').messages, messages);
    });

    test('sessions are kept apart by key, whatever characters the key holds', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.append('slack:T1:C1:1.0', [user('one')]);
      store.append("../../etc/passwd'; DROP TABLE sessions;--", [user('two')]);
      assert.deepEqual(store.load('slack:T1:C1:1.0').messages, [user('one')]);
      assert.deepEqual(store.load("../../etc/passwd'; DROP TABLE sessions;--").messages, [user('two')]);
    });

    test('taint is per session and sticks once set', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.append('a', [user('x')]);
      store.markTainted('a');
      store.append('a', [user('y')]);
      store.markTainted('b');
      assert.equal(store.load('a').tainted, true);
      assert.equal(store.load('b').tainted, true);
      assert.deepEqual(store.load('b').messages, []);
      store.append('c', [user('z')]);
      assert.equal(store.load('c').tainted, false);
    });

    test('a limit keeps the last messages', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.append('s', [user('1'), assistantText('a'), user('2'), assistantText('b'), user('3'), assistantText('c')]);
      assert.deepEqual(store.load('s', 4).messages, [user('2'), assistantText('b'), user('3'), assistantText('c')]);
    });

    test('a limit never starts the history with an assistant message or with orphaned tool results', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      const history = [user('first'), assistantCall('toolu_1'), toolResult('toolu_1'), assistantCall('toolu_2'), toolResult('toolu_2'), assistantText('done'), user('second'), assistantText('ok')];
      store.append('s', history);
      // The last 5 start at toolResult(toolu_1)'s successor; the first clean start is 'second'.
      assert.deepEqual(store.load('s', 5).messages, [user('second'), assistantText('ok')]);
      // Starting exactly on a tool result: skip it and the assistant after it.
      assert.deepEqual(store.load('s', 6).messages, [user('second'), assistantText('ok')]);
      assert.deepEqual(store.load('s', 8).messages, history);
    });

    test('a user message mixing text and tool results is not a clean start', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      const mixed: Message = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }, { type: 'text', text: 'also' }] };
      const textBlocks: Message = { role: 'user', content: [{ type: 'text', text: 'block text' }] };
      store.append('s', [mixed, assistantText('a'), textBlocks, assistantText('b')]);
      assert.deepEqual(store.load('s', 4).messages, [textBlocks, assistantText('b')]);
    });

    test('a limit window without a clean user message gives an empty history', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.append('s', [user('go'), assistantCall('toolu_1'), toolResult('toolu_1'), assistantCall('toolu_2'), toolResult('toolu_2')]);
      assert.deepEqual(store.load('s', 3).messages, []);
      assert.deepEqual(store.load('s', 0).messages, []);
    });

    test('a row with an unknown message version is refused with a StateError naming it', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new SessionStore(db);
      store.append('s', [user('hi')]);
      db.prepare('UPDATE session_messages SET version = 2').run();
      assert.throws(() => store.load('s'), (err: unknown) => err instanceof StateError && /version 2/.test(err.message) && err.code === 'state_version_unsupported');
    });

    test('a row that is not a message is refused rather than handed to the model', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new SessionStore(db);
      store.append('s', [user('hi')]);
      db.prepare(`UPDATE session_messages SET message_json = '{"role":"system","content":"x"}'`).run();
      assert.throws(() => store.load('s'), StateError);
      db.prepare(`UPDATE session_messages SET message_json = 'not json'`).run();
      assert.throws(() => store.load('s'), StateError);
    });

    test('an append that fails part-way stores none of its messages', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: Message = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x__y', input: cyclic }] };
      store.append('s', [user('before')]);
      assert.throws(() => store.append('s', [user('kept?'), bad]), StateError);
      assert.deepEqual(store.load('s').messages, [user('before')]);
    });
  });
}
