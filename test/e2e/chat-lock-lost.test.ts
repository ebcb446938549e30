/**
 * `mithai chat` watches its process lock like `mithai run` does: a lock file deleted or replaced
 * while the chat runs would let a second process take a new lock and serve the same project
 * beside it, so the chat says so and stops (exit 1) instead of carrying on unguarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reply } from '../fakes/anthropic/script.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { LOCK_DB_FILE } from '../../src/state/process-lock.ts';
import { startChat } from './chat-harness.ts';

for (const how of ['deleted', 'replaced'] as const) {
  test(`a chat whose lock file is ${how} while it waits for input stops with exit 1 and says why`, async (t) => {
    const chat = await startChat(t, [reply('unused')]);
    await chat.until('the chat never started', () => /Session ops-1 is new/.test(chat.err()));
    const lockDb = join(chat.project.dir, '.mithai', 'state', LOCK_DB_FILE);
    if (how === 'deleted') rmSync(lockDb);
    else {
      writeFileSync(`${lockDb}.new`, '');
      renameSync(`${lockDb}.new`, lockDb);
    }
    let code: number | null | undefined;
    void chat.closed.then((c) => (code = c));
    await chat.until('the chat kept running without its lock', () => code !== undefined, 10_000);
    assert.equal(code, EXIT.failed, chat.err());
    assert.match(chat.err(), /mithai chat: the process lock file in .* was deleted or replaced while this chat ran, so another mithai could serve this project beside it; stopping\./);
    assert.equal(chat.fake.calls.length, 0);
  });
}
