/**
 * Click latency with 100 turns waiting on approvals (issue #3's bar), end to end through the
 * test harness (real Bolt in Socket Mode against the local Slack fake, real SDK against the
 * local model fake, debug logging as in the tests): the ack time and the time until the
 * approved tool ran. mithai only, absolute targets; kept from the first bench.
 */
import { reply, toolUse } from '../../test/fakes/anthropic/script.ts';
import type { ScriptStep } from '../../test/fakes/anthropic/script.ts';
import { ALICE, CHANNEL, cards, endsWithToolResult, lastUserText, repeat, startSlackHarness, waitFor } from '../../test/e2e/slack-harness.ts';
import type { Row } from '../lib/report.ts';

function absolute(name: string, value: number, target: number): Row {
  return { name, target: `<= ${target} ms`, measured: value, pass: value <= target, baseline: 'n/a', mithai: value, unit: 'ms' };
}

export async function slackClickFigures(): Promise<Row[]> {
  const cleanups: Array<() => unknown> = [];
  try {
    const step: ScriptStep = (req) => {
      if (endsWithToolResult(req)) return reply('finished');
      const service = /restart (svc-\d+)/.exec(lastUserText(req))?.[1] ?? 'unknown';
      return reply(toolUse('ops__restart', { service }));
    };
    const h = await startSlackHarness({ after: (fn) => cleanups.push(fn) }, { script: repeat(step, 220) });
    const users = [ALICE, ...Array.from({ length: 9 }, (_, i) => `UUSER0000${i + 1}`)];
    const threads = await Promise.all(Array.from({ length: 100 }, (_, i) => h.slack.mention({ user: users[i % 10]!, channel: CHANNEL, text: `restart svc-${i}`, timeoutMs: 10_000 })));
    await waitFor('a hundred cards', () => threads.every((s) => cards(h.slack, CHANNEL, s.ts).length === 1), 30_000);
    const card = cards(h.slack, CHANNEL, threads[50]!.ts)[0]!;
    const started = performance.now();
    await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
    const ackMs = performance.now() - started;
    await waitFor('the tool run', () => h.effects().length === 1, 10_000);
    const runMs = performance.now() - started;
    return [
      absolute('micro: Slack click ack, 100 approvals pending', ackMs, 500),
      absolute('micro: Slack click -> tool run, 100 approvals pending', runMs, 1500),
    ];
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}
