/**
 * A process carries on only turns of the platform it serves: an expiry or a decision seen in
 * `mithai run` never carries on (and answers through Slack) a `mithai chat` turn, or the other way
 * round; that turn's own front end resumes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRuntime } from '../../src/engine/create-runtime.ts';
import { RecordingAdapter } from '../fixtures/recording-adapter.ts';
import { startEngine } from './engine-harness.ts';

test('an expiry of a terminal turn\'s approval does not make the Slack process run that turn', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {})), reply('reply meant for the terminal')], { yaml: 'human: { timeout_seconds: 0.3 }' });
  // `mithai chat --session s1`: the turn waits on its approval, then chat is killed.
  h.runtime.engine.attach(h.adapter, { platform: 'terminal' });
  const chatTurn = h.turn('run it', { conversation: { platform: 'terminal', team: 'local', channel: 'terminal', thread: 's1' } });
  const id = h.runtime.engine.accept(chatTurn)!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  h.runtime.close();

  // `mithai run` starts on the same project, exactly as slack-service wires it.
  writeFileSync(join(h.dir, 'config.yaml'), [
    'llm:', '  model: claude-test', `  anthropic: { api_key: "\${ANTHROPIC_API_KEY}", base_url: "${h.fake.url}", max_retries: 0 }`,
    'human: { timeout_seconds: 0.3 }',
  ].join('\n'));
  const loaded = loadConfig(join(h.dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: FAKE_API_KEY } });
  const runtime = await createRuntime(loaded, { logDestination: new PassThrough().resume() });
  t.after(() => runtime.close());
  const slack = new RecordingAdapter();
  runtime.engine.attach(slack, { platform: 'slack' });
  runtime.expiry.start();
  const report = await runtime.engine.resumeAll();
  assert.deepEqual(report.turnIds, [], 'the Slack process resumes only Slack turns');

  // The chat approval's deadline passes while the Slack process serves (its expiry timer fires).
  const deadline = Date.now() + 5000;
  while (runtime.approvals.listByTurn(id)[0]?.state !== 'expired') {
    if (Date.now() > deadline) throw new Error('the approval never expired');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(runtime.engine.running, 0, 'the expiry started no step in the Slack process');
  assert.deepEqual(slack.replies.map((r) => r.text), [], 'the terminal turn\'s reply was posted through the Slack adapter');
  assert.equal(h.fake.calls.length, 1, 'the Slack process called the model for a terminal turn');
  assert.notEqual(runtime.turns.get(id)?.state, 'done', 'the terminal turn was finished by the Slack process; chat --session never gets its reply');
});
