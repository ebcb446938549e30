import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { FakeAnthropic } from './anthropic/fake-anthropic.ts';
import { apiError, lastToolResults, maxTokensCut, reply, text, toolResultText, toolUse } from './anthropic/script.ts';

function client(fake: FakeAnthropic, apiKey = fake.apiKey): Anthropic {
  return new Anthropic({ apiKey, baseURL: fake.url, maxRetries: 0, logLevel: 'off' });
}

async function post(fake: FakeAnthropic, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': fake.apiKey, ...headers },
    body: JSON.stringify(body),
  });
}

const hello: MessageCreateParamsNonStreaming = { model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] };

describe('FakeAnthropic', () => {
  test('answers messages.create with the scripted reply as a full Message and records the request', async (t) => {
    const fake = await FakeAnthropic.start([reply('Hi there.')]);
    t.after(() => fake.stop());
    const message = await client(fake).messages.create({ ...hello, system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] });

    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, 'claude-test');
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content.map((b) => (b.type === 'text' ? b.text : b.type)), ['Hi there.']);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.stop_sequence, null);
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    assert.ok((message.usage.cache_creation_input_tokens ?? 0) > 0, 'the first cached prefix is a cache write');

    const [sent] = fake.requests;
    assert.equal(sent.model, 'claude-test');
    assert.equal(sent.max_tokens, 100);
    assert.equal(sent.stream, false);
    assert.deepEqual(sent.system, [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }]);
    assert.equal(sent.cacheControlCount, 1);
    assert.equal(sent.status, 200);
    assert.equal(fake.remainingSteps, 0);
  });

  test('streams text and a tool call in small chunks that messages.stream() reassembles', async (t) => {
    const call = toolUse('ops__get_status', { host: 'web-1', verbose: true, tags: ['a', 'b'] }, 'toolu_01');
    const fake = await FakeAnthropic.start([reply('Let me check the host status for you.', call)]);
    t.after(() => fake.stop());
    const stream = client(fake).messages.stream(hello);
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();

    assert.ok(deltas.length > 1, 'text arrives in more than one delta');
    assert.equal(deltas.join(''), 'Let me check the host status for you.');
    assert.equal(message.stop_reason, 'tool_use');
    const use = message.content[1];
    assert.equal(use.type, 'tool_use');
    assert.equal(use.type === 'tool_use' && use.id, 'toolu_01');
    assert.deepEqual(use.type === 'tool_use' && use.input, { host: 'web-1', verbose: true, tags: ['a', 'b'] });
    assert.equal(fake.requests[0].stream, true);
  });

  test('lets a step function answer from the tool_result the client sent back', async (t) => {
    const fake = await FakeAnthropic.start([
      reply(toolUse('ops__uptime', {}, 'toolu_up')),
      (request) => reply(`Uptime is ${toolResultText(lastToolResults(request)[0])}.`),
    ]);
    t.after(() => fake.stop());
    const anthropic = client(fake);
    const first = await anthropic.messages.create(hello);
    const second = await anthropic.messages.create({
      ...hello,
      messages: [
        ...hello.messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_up', content: '3 days' }] },
      ],
    });
    assert.deepEqual(second.content[0].type === 'text' && second.content[0].text, 'Uptime is 3 days.');
    assert.equal(fake.calls.length, 2);
  });

  test('rejects an assistant tool_use that is not answered by a tool_result, without using a step', async (t) => {
    const fake = await FakeAnthropic.start([reply('never sent')]);
    t.after(() => fake.stop());
    const err = await client(fake)
      .messages.create({
        ...hello,
        messages: [
          { role: 'user', content: 'check web-1' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_orphan', name: 'ops__status', input: {} }] },
          { role: 'user', content: 'and now?' },
        ],
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.BadRequestError);
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.apiMessage ?? '', /^messages\.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_orphan\./);
    assert.equal(fake.remainingSteps, 1);
    assert.equal(fake.calls.length, 0);
  });

  test('answers 401 authentication_error in the real error shape for a missing or wrong key', async (t) => {
    const fake = await FakeAnthropic.start([reply('ok')]);
    t.after(() => fake.stop());
    const missing = await post(fake, hello, { 'x-api-key': '' });
    assert.equal(missing.status, 401);
    const wrong = await post(fake, hello, { 'x-api-key': 'sk-ant-wrong' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('request-id') ?? '', /^req_/);
    const body = (await wrong.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'authentication_error');
    assert.equal(body.request_id, wrong.headers.get('request-id'));
    const viaHeader = await post(fake, hello);
    assert.equal(viaHeader.status, 200, 'x-api-key is accepted as well as Authorization: Bearer');
  });

  test('sends error steps with retry-after and x-should-retry, then carries on with the script', async (t) => {
    const fake = await FakeAnthropic.start([apiError(429, { retryAfterSeconds: 7 }), apiError(400, { message: 'bad thing' }), reply('fine')]);
    t.after(() => fake.stop());
    const limited = await post(fake, hello);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(limited.headers.get('x-should-retry'), 'true');
    assert.equal(((await limited.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
    const bad = await post(fake, hello);
    assert.equal(bad.headers.get('x-should-retry'), 'false');
    assert.equal(((await bad.json()) as { error: { message: string } }).error.message, 'bad thing');
    assert.equal((await post(fake, hello)).status, 200);
  });

  test('fails loudly with a non-retryable 400 once the script is exhausted', async (t) => {
    const fake = await FakeAnthropic.start([]);
    t.after(() => fake.stop());
    const res = await post(fake, hello);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /script is exhausted/);
  });

  test('reports an error in the middle of a stream as the SDK expects', async (t) => {
    const fake = await FakeAnthropic.start([apiError(529, { inStream: true })]);
    t.after(() => fake.stop());
    const err = await client(fake).messages.stream(hello).finalMessage().catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, undefined);
    assert.equal(err.type, 'overloaded_error');
  });

  test('reads a repeated cached prefix from the cache and marks a max_tokens cut', async (t) => {
    const fake = await FakeAnthropic.start([reply('one'), maxTokensCut(text('two, cut'))]);
    t.after(() => fake.stop());
    const body: MessageCreateParamsNonStreaming = { ...hello, system: [{ type: 'text', text: 'stable prefix', cache_control: { type: 'ephemeral' } }] };
    const first = await client(fake).messages.create(body);
    const second = await client(fake).messages.create(body);
    assert.equal(first.usage.cache_read_input_tokens, 0);
    assert.ok((second.usage.cache_read_input_tokens ?? 0) > 0);
    assert.equal(second.usage.cache_creation_input_tokens, 0);
    assert.equal(second.stop_reason, 'max_tokens');
  });

  test('serve.ts runs the fake from a JSON script and prints its URL', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-anthropic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const scriptPath = join(dir, 'script.json');
    writeFileSync(scriptPath, JSON.stringify({ apiKey: 'sk-ant-from-file-123', steps: [reply('served')] }));
    const serve = fileURLToPath(new URL('./anthropic/serve.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', serve, scriptPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    while (!out.includes('\n')) await once(child.stdout, 'data');
    const url = out.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const anthropic = new Anthropic({ apiKey: 'sk-ant-from-file-123', baseURL: url, maxRetries: 0, logLevel: 'off' });
    const message = await anthropic.messages.create(hello);
    assert.deepEqual(message.content[0].type === 'text' && message.content[0].text, 'served');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
