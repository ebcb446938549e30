/**
 * The bare loop mithai is measured against: a minimal Bolt 5 Socket Mode app and an
 * `@anthropic-ai/sdk` tool loop, with no policy, audit, state or redaction. An @mention starts
 * a loop in its thread (history in memory, for that one turn); tools run at once, except
 * `restart`, which posts an Approve button and waits (in memory) for its click. The reply goes
 * into the thread. Same tools, same tool results and the same transport as mithai (a streamed
 * Messages call, `messages.stream().finalMessage()`; `transport: 'create'` uses
 * `messages.create` instead), and the usual prompt-cache breakpoints of a careful bare loop: the
 * system prompt and the end of the conversation.
 *
 * Runs in the bench process (startBareLoop) or as its own process (./app.ts).
 */
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import bolt from '@slack/bolt';
import { BOT_NAME, OPS_TOOLS, PERSONA, SERVICE_SCHEMA, toolResultText } from '../lib/ops.ts';
import { toolStarted } from '../lib/tool-hooks.ts';

const { App, LogLevel, SocketModeReceiver } = bolt;

/** Where the bare loop connects. */
export interface BareLoopOptions {
  botToken: string;
  appToken: string;
  /** Slack Web API base URL (ends with `/api/`). */
  slackApiUrl: string;
  anthropicBaseUrl: string;
  anthropicApiKey: string;
  model?: string;
  maxTokens?: number;
  transport?: 'stream' | 'create';
}

/** A running bare loop. */
export interface BareLoop {
  stop(): Promise<void>;
}

/** The action_id of the bare loop's Approve button. */
export const BARE_APPROVE_ACTION = 'bench_approve';

const SYSTEM = `You are ${BOT_NAME}. ${PERSONA}`;
const MAX_ITERATIONS = 20;

/** Start the app; resolves once Socket Mode is connected. */
export async function startBareLoop(o: BareLoopOptions): Promise<BareLoop> {
  const anthropic = new Anthropic({ apiKey: o.anthropicApiKey, baseURL: o.anthropicBaseUrl, maxRetries: 0 });
  const receiver = new SocketModeReceiver({
    appToken: o.appToken,
    logLevel: LogLevel.ERROR,
    installerOptions: { clientOptions: { slackApiUrl: o.slackApiUrl } },
  });
  const app = new App({ token: o.botToken, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: o.slackApiUrl } });
  const tools: Tool[] = OPS_TOOLS.map((t) => ({ name: t.name, description: t.description, input_schema: { ...SERVICE_SCHEMA, properties: { ...SERVICE_SCHEMA.properties }, required: [...SERVICE_SCHEMA.required] } }));
  const waiting = new Map<string, () => void>();

  const complete = async (messages: MessageParam[]) => {
    const params = {
      model: o.model ?? 'claude-test',
      max_tokens: o.maxTokens ?? 4096,
      system: [{ type: 'text' as const, text: SYSTEM, cache_control: { type: 'ephemeral' as const } }],
      tools,
      messages: withCacheBreakpoint(messages),
    };
    return o.transport === 'create' ? anthropic.messages.create(params) : anthropic.messages.stream(params).finalMessage();
  };

  app.event('app_mention', async ({ event, client }) => {
    const channel = event.channel;
    const thread = event.thread_ts ?? event.ts;
    const messages: MessageParam[] = [{ role: 'user', content: event.text }];
    for (let i = 0; i < MAX_ITERATIONS; i++) {
      const response = await complete(messages);
      const content: ContentBlockParam[] = [];
      for (const b of response.content) {
        if (b.type === 'text') content.push({ type: 'text', text: b.text });
        else if (b.type === 'tool_use') content.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
      }
      messages.push({ role: 'assistant', content });
      const uses = response.content.filter((b) => b.type === 'tool_use');
      if (uses.length === 0) {
        const text = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n').trim();
        await client.chat.postMessage({ channel, thread_ts: thread, text: text || '(no reply)' });
        return;
      }
      const results: ContentBlockParam[] = [];
      for (const use of uses) {
        const service = String((use.input as { service?: unknown }).service ?? '');
        if (use.name === 'restart') {
          const id = randomUUID();
          const approved = new Promise<void>((resolve) => waiting.set(id, resolve));
          await client.chat.postMessage({
            channel,
            thread_ts: thread,
            text: `Approve restart of ${service}?`,
            blocks: [
              { type: 'section', text: { type: 'mrkdwn', text: `Approve *restart* of \`${service}\`?` } },
              { type: 'actions', elements: [{ type: 'button', action_id: BARE_APPROVE_ACTION, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: id }] },
            ],
          });
          await approved;
        }
        toolStarted(use.name, use.input, thread);
        results.push({ type: 'tool_result', tool_use_id: use.id, content: toolResultText(use.name, service) });
      }
      messages.push({ role: 'user', content: results });
    }
  });

  app.action(BARE_APPROVE_ACTION, async ({ ack, action }) => {
    await ack();
    const id = (action as { value?: string }).value ?? '';
    const resolve = waiting.get(id);
    waiting.delete(id);
    resolve?.();
  });

  await app.start();
  return {
    async stop() {
      await app.stop();
      await receiver.client.disconnect();
    },
  };
}

/** The messages with a cache breakpoint on the last block (a copy; the history keeps none). */
function withCacheBreakpoint(messages: MessageParam[]): MessageParam[] {
  const out = [...messages];
  const last = out.at(-1);
  if (!last) return out;
  const blocks: ContentBlockParam[] = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...last.content];
  const end = blocks.at(-1);
  if (end && (end.type === 'text' || end.type === 'tool_result' || end.type === 'tool_use')) blocks[blocks.length - 1] = { ...end, cache_control: { type: 'ephemeral' } };
  out[out.length - 1] = { ...last, content: blocks } as MessageParam;
  return out;
}
