/**
 * A pending approval that is shown again after a restart (its card was never posted) and cannot
 * be shown (Slack refuses, or the thread cannot be read) is cancelled, exactly as when it was first
 * opened: an approval nobody can see can never be decided, and the turn must answer instead of
 * waiting for its deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRuntime } from '../../src/engine/create-runtime.ts';
import type { Approval } from '../../src/human/types.ts';
import { RecordingAdapter } from '../fixtures/recording-adapter.ts';
import { startEngine } from './engine-harness.ts';

class RefusingAdapter extends RecordingAdapter {
  override async requestApproval(approval: Approval): Promise<void> {
    this.requested.push(approval);
    throw Object.assign(new Error('An API error occurred: not_in_channel'), { code: 'slack_webapi_platform_error', data: { error: 'not_in_channel' } });
  }
}

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('a pending approval that cannot be shown again after a restart is cancelled and the turn answers, not left invisible', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {})), reply('It was cancelled, so I did nothing.')], { yaml: 'human: { timeout_seconds: 3600 }' });
  // The first process opens the approval and dies before its card is on record (no display_ref).
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('run it'))!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  const approval = h.adapter.requested[0]!;
  assert.equal(h.runtime.approvals.get(approval.id)?.displayRef, null);
  h.runtime.close();

  const loaded = loadConfig(join(h.dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: FAKE_API_KEY } });
  const runtime = await createRuntime(loaded, { logDestination: new PassThrough().resume() });
  t.after(() => runtime.close());
  const adapter = new RefusingAdapter();
  runtime.engine.attach(adapter, { platform: 'slack' });
  await runtime.engine.resumeAll();
  await waitUntil(() => adapter.requested.length > 0);
  assert.equal(adapter.requested.length, 1, 'the approval was shown again after the restart');

  const answered = await waitUntil(() => adapter.replies.length > 0);
  const state = runtime.approvals.get(approval.id)?.state;
  assert.equal(state, 'cancelled', `the approval nobody can see is still ${state}; its deadline is an hour away`);
  assert.ok(answered, 'the thread is silent: the turn waits on an approval that no one can see or decide');
});
