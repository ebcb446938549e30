/**
 * Every tool_use gets exactly one result, even when the commit that records it fails (the
 * outcome's audit append or the database write throws): the result reaches the model from memory,
 * the history never gets a null block, and the thread keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { AuditError } from '../../src/errors.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import { startEngine } from './engine-harness.ts';

test('a result whose commit failed still reaches the model, and the thread keeps working', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'x' })), reply('first done'), reply('second done')]);
  const audit = h.runtime.audit;
  const original = audit.append.bind(audit);
  let failOnce = true;
  // A one-off failure of the outcome's audit append (e.g. SQLITE_BUSY while another process
  // holds the write lock): the tool already ran.
  audit.append = ((input: AuditEventInput) => {
    if (input.event === 'outcome' && failOnce) {
      failOnce = false;
      throw new AuditError('audit log could not be updated (SQLITE_BUSY); the record was not saved');
    }
    return original(input);
  }) as typeof audit.append;

  const first = await h.runtime.engine.handleTurn(h.turn('write x'), h.adapter);
  assert.deepEqual(h.effects(), ['note x'], 'the tool ran once');
  const stored = h.runtime.db.prepare<[], { message_json: string }>('SELECT message_json FROM session_messages ORDER BY id').all().map((r) => r.message_json);
  assert.ok(!stored.some((m) => m.includes('[null')), `a null tool_result was stored in the session: ${stored.join('\n')}`);
  assert.equal(first.status, 'answered', `first turn: ${first.status} ${first.reply}`);
  const second = await h.runtime.engine.handleTurn(h.turn('and now?'), h.adapter);
  assert.equal(second.status, 'answered', `the thread is poisoned: ${second.status} ${second.reply}`);
});
