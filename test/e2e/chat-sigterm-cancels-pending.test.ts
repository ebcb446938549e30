/**
 * A signal is not the end of input: SIGTERM or Ctrl-C on `mithai chat` while it waits for an answer
 * leaves the approval pending (not `cancelled`), so `mithai chat --session NAME` can resume it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { startChat } from './chat-harness.ts';

test('SIGTERM to mithai chat leaves its pending approval pending, for --session to resume', async (t) => {
  const chat = await startChat(t, [reply(toolUse('ops__restart', { service: 'web' })), reply('Restarted.')]);
  chat.write('restart web\n');
  await chat.until('no approval prompt', () => /Approve\?/.test(chat.out()));
  chat.kill('SIGTERM');
  await chat.closed;

  const db = new Database(join(chat.project.dir, '.mithai', 'state', 'mithai.db'), { readonly: true });
  const row = db.prepare<[], { state: string; reason: string | null }>('SELECT state, reason FROM approvals').get();
  db.close();
  assert.equal(row?.state, 'pending', `after SIGTERM the approval is ${row?.state} (${row?.reason}); audit: ${JSON.stringify(chat.project.auditRecords().map((r) => [r.event, r.decision, r.reason]))}`);
});
