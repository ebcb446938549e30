import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateRequest } from './anthropic/validate-request.ts';
import type { WireRequest } from './anthropic/wire.ts';

/*
 * The fake must refuse what the real API refuses, or a history bug (an unanswered tool_use
 * after a crash, a tool_result for a call that was dropped, a fifth cache breakpoint) would
 * pass every test and fail only in production. Each case names the broken request and the
 * start of the message the real API sends for it.
 */

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: unknown) => ({ role: 'assistant', content });
const use = (id: string, name = 'ops__status') => ({ type: 'tool_use', id, name, input: {} });
const result = (id: string, content = 'ok') => ({ type: 'tool_result', tool_use_id: id, content });
const tool = (name: string, extra: Record<string, unknown> = {}) => ({ name, description: 'd', input_schema: { type: 'object' }, ...extra });
const body = (messages: unknown[], extra: Record<string, unknown> = {}): WireRequest => ({ model: 'claude-test', max_tokens: 10, messages, ...extra });
const cc = { cache_control: { type: 'ephemeral' } };

describe('validateRequest', () => {
  test('accepts a complete tool round trip with parallel calls', () => {
    const ok = body([
      user('check both hosts'),
      assistant([{ type: 'text', text: 'Checking.' }, use('toolu_a'), use('toolu_b')]),
      user([result('toolu_b'), result('toolu_a'), { type: 'text', text: 'thanks' }]),
      assistant('Both fine.'),
      user('good'),
    ]);
    assert.equal(validateRequest(ok), undefined);
  });

  const cases: Array<[string, WireRequest, RegExp]> = [
    ['a missing model', { max_tokens: 1, messages: [user('hi')] }, /^model: Field required/],
    ['a missing max_tokens', { model: 'm', messages: [user('hi')] }, /^max_tokens: Field required/],
    ['missing messages', { model: 'm', max_tokens: 1 }, /^messages: Field required/],
    ['an empty message list', body([]), /^messages: at least one message is required/],
    ['a first message from the assistant', body([assistant('hi'), user('x')]), /^messages: first message must use the "user" role/],
    ['an empty text block', body([user([{ type: 'text', text: '' }])]), /^messages: text content blocks must be non-empty/],
    ['an empty user message', body([user('')]), /^messages\.0: all messages must have non-empty content/],
    [
      'a tool_use answered by nothing',
      body([user('x'), assistant([use('toolu_1')]), user('next')]),
      /^messages\.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1\./,
    ],
    [
      'a tool_use whose result comes after text instead of first',
      body([user('x'), assistant([use('toolu_1')]), user([{ type: 'text', text: 'hm' }, result('toolu_1')])]),
      /^messages\.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1\./,
    ],
    [
      'one of two parallel calls unanswered',
      body([user('x'), assistant([use('toolu_1'), use('toolu_2')]), user([result('toolu_1')])]),
      /immediately after: toolu_2\./,
    ],
    ['a trailing assistant tool_use', body([user('x'), assistant([use('toolu_1')])]), /immediately after: toolu_1\./],
    [
      'a tool_result for a call the previous message did not make',
      body([user('x'), assistant('no tools'), user([result('toolu_ghost')])]),
      /^messages\.2\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_ghost\./,
    ],
    ['a tool_result in the first message', body([user([result('toolu_ghost')])]), /^messages\.0\.content\.0: unexpected `tool_use_id`/],
    [
      'two results for one call',
      body([user('x'), assistant([use('toolu_1')]), user([result('toolu_1'), result('toolu_1')])]),
      /each tool_use must have a single result/,
    ],
    [
      'a reused tool_use id',
      body([user('x'), assistant([use('toolu_1')]), user([result('toolu_1')]), assistant([use('toolu_1')]), user([result('toolu_1')])]),
      /^messages\.3\.content\.0: `tool_use` ids must be unique/,
    ],
    ['a tool_use input that is not an object', body([user('x'), assistant([{ ...use('toolu_1'), input: '{}' }]), user([result('toolu_1')])]), /tool_use\.input: Input should be a valid dictionary/],
    ['a tool name with a dot', body([user('x')], { tools: [tool('ops.status')] }), /^tools\.0\.custom\.name: String should match pattern/],
    ['a 65-character tool name', body([user('x')], { tools: [tool('a'.repeat(65))] }), /^tools\.0\.custom\.name: String should match pattern/],
    ['duplicate tool names', body([user('x')], { tools: [tool('a'), tool('a')] }), /^tools: Tool names must be unique/],
    ['a tool schema that is not an object', body([user('x')], { tools: [tool('a', { input_schema: { type: 'string' } })] }), /input_schema\.type: Input should be 'object'/],
    ['an empty system block', body([user('x')], { system: [{ type: 'text', text: '' }] }), /^system: text content blocks must be non-empty/],
    [
      'five cache breakpoints',
      body([user([{ type: 'text', text: 'a', ...cc }, { type: 'text', text: 'b', ...cc }])], {
        system: [{ type: 'text', text: 's', ...cc }],
        tools: [tool('a', cc), tool('b', cc)],
      }),
      /^A maximum of 4 blocks with cache_control may be provided\. Found 5\./,
    ],
    ['a cache_control of an unknown type', body([user([{ type: 'text', text: 'a', cache_control: { type: 'forever' } }])]), /cache_control\.type: Input should be 'ephemeral'/],
  ];

  for (const [what, request, expected] of cases) {
    test(`rejects ${what}`, () => {
      assert.match(validateRequest(request) ?? '(accepted)', expected);
    });
  }

  test('accepts exactly four cache breakpoints', () => {
    const four = body([user([{ type: 'text', text: 'a', ...cc }])], { system: [{ type: 'text', text: 's', ...cc }], tools: [tool('a', cc), tool('b', cc)] });
    assert.equal(validateRequest(four), undefined);
  });
});
