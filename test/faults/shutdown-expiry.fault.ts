/**
 * SIGTERM with a slow tool running and another approval pending: the running call gets
 * `adapter.slack.shutdown_grace_seconds` (1 s here), is then recorded `unknown` (never re-run),
 * the pending approval stays pending with a live card, and the process exits 0; after the next
 * start the pending card still works and both threads get their reply.
 *
 * Expiry while down (human.timeout_seconds 4): killed with a card up, restarted after its deadline: the approval is
 * expired at start, its card is final, the thread is told, the model is told "expired without a
 * decision", and the thread gets the model's reply.
 *
 * A second mention in a thread whose turn waits on an approval, then kill -9: after the restart
 * the first call is approved and runs, then the queued turn is answered (never silence).
 */
import { test } from 'node:test';
import { driveToEnd, finishScenario } from './invariants.ts';
import type { Finding } from './invariants.ts';
import { botTexts, cardsIn, clickApprove, killHard, makeFaultProject, mention, redeliverIfUnacked, startConnected, waitFor } from './fault-harness.ts';
import { lastUserText } from '../e2e/slack-harness.ts';

test('SIGTERM with a slow tool running: exit 0 within the grace, the call is unknown, the pending approval stays pending', async (t) => {
  const name = 'SIGTERM with a slow tool running and an approval pending';
  const p = await makeFaultProject(t, name, { slack: ['shutdown_grace_seconds: 1'] });
  const findings: Finding[] = [];
  const bad = (message: string): void => void findings.push({ kind: 'other', message });
  const first = await startConnected(p);
  const waiting = mention(p, 'restart api');
  const waitingCard = await waitFor('the restart card', () => cardsIn(p, waiting.ts).find((c) => c.buttons.length > 0), 15_000);
  const slow = mention(p, 'do the slow thing');
  const slowCard = await waitFor('the slow card', () => cardsIn(p, slow.ts).find((c) => c.buttons.length > 0), 15_000);
  await clickApprove(p, slowCard);
  await waitFor('the slow tool to start', () => p.effects().includes('slow started'), 15_000);

  const sentAt = Date.now();
  first.child.kill('SIGTERM');
  const exit = await first.exited;
  const tookMs = Date.now() - sentAt;
  if (exit.code !== 0) bad(`SIGTERM exit was ${exit.code ?? exit.signal}, not 0: ${first.stderr().slice(-500)}`);
  // 1 s of grace, then the abort and at most 5 s more for what is left, plus the disconnect.
  if (tookMs > 9_000) bad(`SIGTERM took ${tookMs} ms with a 1 s grace`);
  const rows = new Map(p.approvals().map((a) => [a.id, a]));
  if (rows.get(slowCard.approvalId!)?.state !== 'unknown') bad(`the slow call is ${rows.get(slowCard.approvalId!)?.state} after the shutdown, not unknown`);
  if (rows.get(waitingCard.approvalId!)?.state !== 'pending') bad(`the pending approval is ${rows.get(waitingCard.approvalId!)?.state} after the shutdown, not pending`);
  const live = cardsIn(p, waiting.ts)[0];
  if (live?.buttons.join(',') !== 'mithai_approve,mithai_deny') bad(`the pending card lost its buttons at shutdown: ${live?.buttons.join(',')}`);
  if (!/Outcome unknown/.test(cardsIn(p, slow.ts)[0]?.text ?? '')) bad(`the slow card does not say "Outcome unknown": ${cardsIn(p, slow.ts)[0]?.text.split('\n')[0]}`);

  const second = await startConnected(p);
  findings.push(...(await driveToEnd(p, second, [waiting.ts, slow.ts])));
  if (JSON.stringify(p.effects()) !== JSON.stringify(['slow started', 'restart api'])) {
    findings.push({ kind: 'doubleExecutions', message: `effects.log is ${JSON.stringify(p.effects())}, expected slow started once (never re-run) and restart api once` });
  }
  if (!botTexts(p, slow.ts).some((x) => /^Told: .*(outcome|effect) is unknown/s.test(x))) findings.push({ kind: 'silentThreads', message: `the slow thread was not told the outcome is unknown: ${JSON.stringify(botTexts(p, slow.ts))}` });
  await finishScenario(t, p, second, { category: 'sigterm', name, kills: 0, threads: [waiting.ts, slow.ts], findings, notes: [`SIGTERM to exit: ${tookMs} ms`] });
});

test('expired while down: expired at start, card final, thread told, the model told "expired without a decision"', async (t) => {
  const name = 'approval expired while mithai was down';
  // 4 s: time enough to see the card and kill before the live process could expire it itself.
  const p = await makeFaultProject(t, name, { timeoutSeconds: 4 });
  const findings: Finding[] = [];
  const first = await startConnected(p);
  const m = mention(p, 'restart api');
  const card = await waitFor('the card', () => cardsIn(p, m.ts).find((c) => c.buttons.length > 0), 15_000);
  await killHard(first);
  if (p.approvals()[0]?.state !== 'pending') throw new Error(`the approval was ${p.approvals()[0]?.state} before the kill; the machine is too slow for this scenario's 4 s timeout`);
  const deadline = Date.parse(p.approvals()[0]!.deadline);
  await waitFor('the deadline to pass while mithai is down', () => Date.now() > deadline + 200, 10_000);

  const second = await startConnected(p);
  findings.push(...(await driveToEnd(p, second, [m.ts])));
  const row = p.approvals()[0];
  if (row?.state !== 'expired') findings.push({ kind: 'other', message: `the approval is ${row?.state}, not expired` });
  const shown = cardsIn(p, m.ts).find((c) => c.ts === card.ts);
  if (!/Expired at/.test(shown?.text ?? '') || (shown?.buttons.length ?? 0) > 0) findings.push({ kind: 'liveCards', message: `the card is not final and expired: ${shown?.buttons.join(',')} ${shown?.text.split('\n')[0]}` });
  if (!botTexts(p, m.ts).some((x) => /expired while mithai was down/.test(x))) findings.push({ kind: 'silentThreads', message: `the thread was not told it expired while down: ${JSON.stringify(botTexts(p, m.ts))}` });
  if (!p.model.calls.some((c) => /expired without a decision/.test(lastUserText(c)))) findings.push({ kind: 'other', message: 'the model was never told "expired without a decision"' });
  if (p.effects().length > 0) findings.push({ kind: 'doubleExecutions', message: `an expired call ran: ${JSON.stringify(p.effects())}` });
  await finishScenario(t, p, second, { category: 'expiry while down', name, kills: 1, threads: [m.ts], findings });
});

test('kill -9 with a turn queued behind a waiting approval: after the restart both turns are answered, in order', async (t) => {
  const name = 'kill with a turn queued behind a waiting approval';
  const p = await makeFaultProject(t, name);
  const findings: Finding[] = [];
  const first = await startConnected(p);
  const m = mention(p, 'restart api');
  await waitFor('the card', () => cardsIn(p, m.ts).find((c) => c.buttons.length > 0), 15_000);
  const queued = mention(p, 'restart db', undefined, m.ts);
  await queued.inFlight;
  await waitFor('the queued turn to be recorded', () => p.turns().length === 2, 10_000);
  await killHard(first);
  const second = await startConnected(p);
  await redeliverIfUnacked(p, queued);
  findings.push(...(await driveToEnd(p, second, [m.ts])));
  if (JSON.stringify(p.effects()) !== JSON.stringify(['restart api', 'restart db'])) {
    findings.push({ kind: p.effects().length > 2 ? 'doubleExecutions' : 'other', message: `effects.log is ${JSON.stringify(p.effects())}, expected restart api then restart db, once each` });
  }
  await finishScenario(t, p, second, { category: 'queued turns', name, kills: 1, threads: [m.ts], findings });
});
