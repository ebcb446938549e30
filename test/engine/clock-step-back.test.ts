/**
 * Turns of a thread run in arrival order, and arrival order is the insertion order, not the wall
 * clock: a clock that steps back (NTP correction, VM resume) between two messages must not let the
 * second start while the first waits on its approval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRuntime } from '../../src/engine/create-runtime.ts';
import type { Clock } from '../../src/clock.ts';
import { RecordingAdapter } from '../fixtures/recording-adapter.ts';
import { startEngine } from './engine-harness.ts';

test('a second message in a thread waits behind a waiting turn even when the clock stepped back', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {})), reply('second answered'), reply('first answered')]);
  h.runtime.close();
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (x) => clearTimeout(x as NodeJS.Timeout) };
  const loaded = loadConfig(join(h.dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: FAKE_API_KEY } });
  const runtime = await createRuntime(loaded, { logDestination: new PassThrough().resume(), clock });
  t.after(() => runtime.close());
  const adapter = new RecordingAdapter();
  runtime.engine.attach(adapter, { platform: 'slack' });

  const first = runtime.engine.accept(h.turn('first'))!;
  assert.equal((await runtime.engine.run(first)).kind, 'waiting');
  offset = -2000; // the clock steps back two seconds
  const second = runtime.engine.accept(h.turn('second'))!;
  const step = await runtime.engine.run(second);
  assert.equal(step.kind, 'queued', 'the second turn started while the first one waits on its approval');
  assert.equal(h.fake.calls.length, 1, 'the model saw a user message right after an unanswered tool_use');
});
