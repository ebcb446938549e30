import { getEventListeners } from 'node:events';
import { Writable } from 'node:stream';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Logger } from 'pino';
import { ModelError } from '../../src/errors.ts';
import { AnthropicModel } from '../../src/llm/anthropic-model.ts';
import { Redactor } from '../../src/security/redactor.ts';
import type { AnthropicModelOptions } from '../../src/llm/anthropic-model.ts';
import type { Message, ModelRequest, ModelTool } from '../../src/llm/types.ts';
import { FAKE_API_KEY, FakeAnthropic } from '../fakes/anthropic/fake-anthropic.ts';
import { apiError, delayed, lastToolResults, reply, toolResultText, toolUse } from '../fakes/anthropic/script.ts';

/** A pino logger that keeps every line, so tests can read what was logged (and what was not). */
function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

function modelFor(fake: FakeAnthropic, options: Partial<AnthropicModelOptions> = {}): AnthropicModel {
  return new AnthropicModel({
    apiKey: fake.apiKey,
    baseURL: fake.url,
    model: 'claude-test',
    maxRetries: 2,
    timeoutMs: 10_000,
    retryBaseDelayMs: 1,
    logger: pino({ level: 'silent' }),
    ...options,
  });
}

const tools: ModelTool[] = [
  { name: 'ops__get_status', description: 'Status of a host', input_schema: { type: 'object', properties: { host: { type: 'string' } }, required: ['host'] } },
  { name: 'ops__restart', description: 'Restart a host', input_schema: { type: 'object', properties: { host: { type: 'string' } } } },
];

function request(messages: Message[], extra: Partial<ModelRequest> = {}): ModelRequest {
  return { system: ['You are an ops assistant.', 'Skill notes: be careful.'], messages, tools, maxTokens: 64_000, ...extra };
}

const ask: Message = { role: 'user', content: [{ type: 'text', text: 'Is web-1 up?' }] };

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ModelError, `expected a ModelError, got ${String(err)}`);
  return err;
}

describe('AnthropicModel', () => {
  test('sends system blocks, tools and messages with cache breakpoints on the last tool, the last system block and the conversation end', async (t) => {
    const fake = await FakeAnthropic.start([reply('Yes.')]);
    t.after(() => fake.stop());
    await modelFor(fake).complete(request([ask]));

    const [sent] = fake.calls;
    assert.equal(sent.model, 'claude-test');
    assert.equal(sent.max_tokens, 64_000, 'a large max_tokens is fine because the call streams');
    assert.equal(sent.stream, true);
    assert.equal(sent.headers.authorization, `Bearer ${fake.apiKey}`);
    assert.deepEqual(sent.system, [
      { type: 'text', text: 'You are an ops assistant.' },
      { type: 'text', text: 'Skill notes: be careful.', cache_control: { type: 'ephemeral' } },
    ]);
    assert.deepEqual(
      sent.tools.map((t) => [t.name, t.cache_control ?? null]),
      [
        ['ops__get_status', null],
        ['ops__restart', { type: 'ephemeral' }],
      ],
    );
    assert.deepEqual(sent.tools[0].input_schema, tools[0].input_schema);
    assert.deepEqual(sent.messages, [{ role: 'user', content: [{ type: 'text', text: 'Is web-1 up?', cache_control: { type: 'ephemeral' } }] }]);
    assert.equal(sent.cacheControlCount, 3);
  });

  test('maps a tool call into a ModelResponse and sends the round trip back in a shape the API accepts', async (t) => {
    const fake = await FakeAnthropic.start([
      reply('Checking.', toolUse('ops__get_status', { host: 'web-1' }, 'toolu_status_1')),
      (req) => reply(`web-1 is ${toolResultText(lastToolResults(req)[0])}.`),
    ]);
    t.after(() => fake.stop());
    const model = modelFor(fake);

    const first = await model.complete(request([ask]));
    assert.equal(first.stopReason, 'tool_use');
    assert.deepEqual(first.content, [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_status_1', name: 'ops__get_status', input: { host: 'web-1' } },
    ]);
    assert.ok(first.usage.inputTokens > 0 && first.usage.outputTokens > 0);
    assert.ok((first.usage.cacheWriteTokens ?? 0) > 0, 'the first call writes the tools + system prefix to the cache');

    const second = await model.complete(
      request([ask, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_status_1', content: 'up' }] }]),
    );
    assert.deepEqual(second.content, [{ type: 'text', text: 'web-1 is up.' }]);
    assert.equal(second.stopReason, 'end_turn');
    assert.ok((second.usage.cacheReadTokens ?? 0) > 0, 'the second call reads the same prefix from the cache');
    assert.equal(fake.calls[1].cacheControlCount, 3);
  });

  /*
   * Retries: transient failures (429, 5xx, 529, timeouts, broken connections) are retried by
   * our policy alone, each retry logged; failures that repeating cannot fix (a bad key, a
   * broken request) go straight to the user, in words they can act on.
   */

  test('retries a 429 once after the retry-after the API asked for, and logs the retry', async (t) => {
    const fake = await FakeAnthropic.start([apiError(429, { retryAfterSeconds: 0 }), reply('Made it.')]);
    t.after(() => fake.stop());
    const { logger, lines } = capturedLogger();
    const response = await modelFor(fake, { logger, retryBaseDelayMs: 60_000 }).complete(request([ask]));

    assert.deepEqual(response.content, [{ type: 'text', text: 'Made it.' }]);
    assert.equal(fake.calls.length, 2);
    const retries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'model.call_retried');
    assert.equal(retries.length, 1);
    assert.equal(retries[0].status, 429);
    assert.equal(retries[0].attempt, 1);
    assert.equal(retries[0].retry_in_ms, 0, 'retry-after: 0 beats the (huge) base delay');
  });

  test('gives up on a 529 after maxRetries and throws a retryable ModelError in plain words', async (t) => {
    const fake = await FakeAnthropic.start([apiError(529), apiError(529), apiError(529), apiError(529)]);
    t.after(() => fake.stop());
    const err = await rejection(modelFor(fake, { maxRetries: 2 }).complete(request([ask])));

    assert.equal(err.message, 'The model API is overloaded (HTTP 529); gave up after 3 attempts. Try again in a minute.');
    assert.equal(err.status, 529);
    assert.equal(err.isRetryable, true);
    assert.equal(err.code, 'model_overloaded');
    assert.equal(fake.calls.length, 3);
  });

  test('retries an overload reported in the middle of the stream', async (t) => {
    const fake = await FakeAnthropic.start([apiError(529, { inStream: true }), reply('Second try.')]);
    t.after(() => fake.stop());
    const response = await modelFor(fake).complete(request([ask]));
    assert.deepEqual(response.content, [{ type: 'text', text: 'Second try.' }]);
    assert.equal(fake.calls.length, 2);
  });

  test('does not retry a rejected API key and says where to fix it', async (t) => {
    const fake = await FakeAnthropic.start([reply('never')]);
    t.after(() => fake.stop());
    const err = await rejection(modelFor(fake, { apiKey: 'sk-ant-wrong-key-1234' }).complete(request([ask])));

    assert.equal(err.message, 'The model API rejected the API key (HTTP 401). Check ANTHROPIC_API_KEY in .env.');
    assert.equal(err.status, 401);
    assert.equal(err.isRetryable, false);
    assert.equal(fake.requests.length, 1);
  });

  test('names the API message when it rejects a history with an unanswered tool_use, without retrying', async (t) => {
    const fake = await FakeAnthropic.start([reply('never')]);
    t.after(() => fake.stop());
    const broken: Message[] = [ask, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_orphan', name: 'ops__restart', input: {} }] }, { role: 'user', content: 'well?' }];
    const err = await rejection(modelFor(fake).complete(request(broken)));

    assert.match(err.message, /^The model API rejected the request \(HTTP 400\): messages\.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_orphan\./);
    assert.equal(err.status, 400);
    assert.equal(err.isRetryable, false);
    assert.equal(fake.requests.length, 1);
  });

  test('times out an attempt that never answers and retries it', async (t) => {
    const fake = await FakeAnthropic.start([delayed(10_000, reply('too late')), reply('On time.')]);
    t.after(() => fake.stop());
    const response = await modelFor(fake, { timeoutMs: 500 }).complete(request([ask]));
    assert.deepEqual(response.content, [{ type: 'text', text: 'On time.' }]);
    assert.equal(fake.requests[0].status, 499, 'the first request was abandoned');
  });

  test('reports an unreachable API in plain words after its retries', async (t) => {
    const fake = await FakeAnthropic.start([]);
    await fake.stop();
    const err = await rejection(modelFor(fake, { maxRetries: 1 }).complete(request([ask])));
    assert.equal(err.message, `Could not reach the model API at ${fake.url} (ECONNREFUSED); gave up after 2 attempts. Check the network and llm.anthropic.base_url.`);
    assert.equal(err.isRetryable, true);
    assert.equal(err.status, undefined);
  });

  test('cancels a call in flight when the signal aborts, and sends nothing for an already aborted signal', async (t) => {
    const controller = new AbortController();
    // Abort once the request has reached the API and is waiting for its answer.
    const fake = await FakeAnthropic.start([
      () => {
        setTimeout(() => controller.abort(), 20);
        return delayed(10_000, reply('too late'));
      },
    ]);
    t.after(() => fake.stop());
    const model = modelFor(fake);
    const started = Date.now();
    const err = await rejection(model.complete(request([ask]), controller.signal));
    assert.equal(err.code, 'model_cancelled');
    assert.equal(err.message, 'The model call was cancelled.');
    assert.equal(err.isRetryable, false);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(fake.calls.length, 1, 'not retried after the abort');

    const already = await rejection(model.complete(request([ask]), AbortSignal.abort()));
    assert.equal(already.code, 'model_cancelled');
    assert.equal(fake.requests.length, 1);
  });

  test('leaves no listener on the caller\'s signal once a call ends, however many calls share it', async (t) => {
    const fake = await FakeAnthropic.start([reply('one'), reply('two'), apiError(400, { message: 'bad request' }), reply('four')]);
    t.after(() => fake.stop());
    const model = modelFor(fake, { maxRetries: 0 });
    const controller = new AbortController();
    await model.complete(request([ask]), controller.signal);
    await model.complete(request([ask]), controller.signal);
    await rejection(model.complete(request([ask]), controller.signal));
    const last = await model.complete(request([ask]), controller.signal);
    assert.deepEqual(last.content, [{ type: 'text', text: 'four' }]);
    // A turn's signal lives for the whole turn: a listener left per call would pile up on it.
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('stops waiting between retries when the signal aborts during the backoff', async (t) => {
    const fake = await FakeAnthropic.start([apiError(429, { retryAfterSeconds: 30 }), reply('never')]);
    t.after(() => fake.stop());
    const controller = new AbortController();
    // Abort shortly after the retry is announced, i.e. while the 30 s wait is running.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (chunk.toString('utf8').includes('model.call_retried')) setTimeout(() => controller.abort(), 20);
        done();
      },
    });
    const started = Date.now();
    const err = await rejection(modelFor(fake, { logger: pino({ level: 'warn' }, sink) }).complete(request([ask]), controller.signal));
    assert.equal(err.code, 'model_cancelled');
    assert.ok(Date.now() - started < 5_000);
    assert.equal(fake.calls.length, 1);
  });

  test('never writes the API key to the logs or into an error message', async (t) => {
    // The 400 echoes the key back, as a misbehaving proxy might: it must still not reach the user.
    const fake = await FakeAnthropic.start([apiError(500), reply('ok'), apiError(400, { message: `bad header value ${FAKE_API_KEY}` })]);
    t.after(() => fake.stop());
    const { logger, lines } = capturedLogger();
    const model = modelFor(fake, { logger });
    await model.complete(request([ask]));
    const bad = await rejection(model.complete(request([ask])));
    const wrongKey = 'sk-ant-wrong-but-secret-9876';
    const denied = await rejection(modelFor(fake, { logger, apiKey: wrongKey }).complete(request([ask])));

    assert.ok(lines.length >= 3, 'the retry and the failures were logged');
    const all = lines.join('\n') + bad.message + denied.message;
    assert.ok(!all.includes(fake.apiKey), 'the real key appears nowhere');
    assert.ok(!all.includes(wrongKey), 'a wrong key appears nowhere either');
    assert.match(bad.message, /bad header value \[redacted\]/);
  });

  test('redacts the API text before cutting it: a secret across the 500-character cut leaves no piece', async (t) => {
    // The API (or a proxy in front of it) echoes request text that holds a known secret.
    const secret = 'xoxb-1111-2222-abcdefabcdefabcdef';
    const redactor = new Redactor([secret]);
    for (const start of [480, 490, 495, 499, 500]) {
      const fake = await FakeAnthropic.start([apiError(400, { message: `${'m'.repeat(start)}${secret} tail` })]);
      t.after(() => fake.stop());
      const err = await rejection(modelFor(fake, { redact: (text) => redactor.redact(text) }).complete(request([ask])));
      for (let n = 6; n <= secret.length; n++) assert.ok(!err.message.includes(secret.slice(0, n)), `cut at ${start}: ${n} characters of the secret survived`);
    }
  });

  test('sends requests through an injected fetch and never takes the base URL from the environment', async (t) => {
    const saved = process.env.ANTHROPIC_BASE_URL;
    process.env.ANTHROPIC_BASE_URL = 'http://from-env.invalid';
    t.after(() => {
      if (saved === undefined) delete process.env.ANTHROPIC_BASE_URL;
      else process.env.ANTHROPIC_BASE_URL = saved;
    });
    const seen: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      seen.push(input instanceof Request ? input.url : String(input));
      const body = { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' }, request_id: 'req_stub' };
      return new Response(JSON.stringify(body), { status: 401, headers: { 'content-type': 'application/json', 'request-id': 'req_stub' } });
    };
    const model = new AnthropicModel({ apiKey: 'sk-ant-stub-key-000', model: 'claude-test', maxRetries: 0, timeoutMs: 1_000, logger: pino({ level: 'silent' }), fetch: fetchStub });
    const err = await rejection(model.complete(request([ask])));
    assert.equal(err.status, 401);
    assert.deepEqual(seen, ['https://api.anthropic.com/v1/messages']);
  });
});
