/**
 * historyWindow is how a turn keeps its loaded history up to date without loading it again
 * before every model call: applied to what `load(key, limit)` returned plus what was appended
 * since, it must give exactly what `load(key, limit)` gives now, for every mix of messages
 * (clean starts, tool results, assistant messages) and every limit, including 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IN_MEMORY, openDatabase } from '../../src/state/database.ts';
import { SessionStore, historyWindow } from '../../src/state/session-store.ts';
import type { Message } from '../../src/llm/types.ts';
import { seededRandom } from '../fixtures/seeded-random.ts';

function message(rand: () => number, n: number): Message {
  const kind = Math.floor(rand() * 4);
  if (kind === 0) return { role: 'user', content: [{ type: 'text', text: `ask ${n}` }] };
  if (kind === 1) return { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${n}`, content: `result ${n}` }] };
  if (kind === 2) return { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${n}`, name: 't__x', input: { n, nested: { keep: undefined, list: [n] } } }] };
  return { role: 'assistant', content: [{ type: 'text', text: `answer ${n}` }] };
}

test('the window kept from appends is what load returns, for any messages and any limit', () => {
  for (let seed = 1; seed <= 40; seed++) {
    // Seeded, so a failure names a seed that reproduces it.
    const rand = seededRandom(seed);
    for (const limit of [0, 1, 2, 3, 5, 8, 50]) {
      const db = openDatabase(IN_MEMORY);
      try {
        const sessions = new SessionStore(db);
        let kept = sessions.load('s', limit).messages;
        let n = 0;
        for (let round = 0; round < 12; round++) {
          const batch = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => message(rand, n++));
          const appended = sessions.append('s', batch);
          kept = historyWindow([...kept, ...appended], limit);
          assert.deepEqual(kept, sessions.load('s', limit).messages, `seed ${seed}, limit ${limit}, round ${round}`);
        }
      } finally {
        db.close();
      }
    }
  }
});

test('append returns the messages as they read back: through JSON, not the objects given', () => {
  const db = openDatabase(IN_MEMORY);
  try {
    const sessions = new SessionStore(db);
    const given: Message = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 't__x', input: { a: undefined, b: 1 } }] };
    const [stored] = sessions.append('s', [given]);
    assert.notEqual(stored, given);
    assert.deepEqual(stored, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 't__x', input: { b: 1 } }] });
    assert.deepEqual(sessions.load('s').messages, [stored]);
  } finally {
    db.close();
  }
});

test('a negative or fractional limit is refused, as load refuses it', () => {
  assert.throws(() => historyWindow([], -1), RangeError);
  assert.throws(() => historyWindow([], 1.5), RangeError);
});
