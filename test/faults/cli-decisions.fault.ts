/**
 * Decisions from another process: `mithai approvals approve ID` / `deny ID --reason …` while
 * `mithai run` serves (the serving process picks the decision up by polling, about once a second,
 * and carries the turn on in Slack); two CLI processes approving the same id at once (one wins,
 * one audit decision record, one run); and a CLI approval while `mithai run` is down (killed),
 * carried on by the next start. The decider is the local operator, `local:<os user>`, listed in
 * `human.approvers` as `local:*`.
 */
import { test } from 'node:test';
import { userInfo } from 'node:os';
import { driveToEnd, finishScenario } from './invariants.ts';
import type { Finding } from './invariants.ts';
import { botTexts, cardsIn, killHard, makeFaultProject, mention, startConnected, waitFor } from './fault-harness.ts';
import type { FaultProject } from './fault-harness.ts';
import type { Mention } from './fault-harness.ts';
import { lastUserText } from '../e2e/slack-harness.ts';

const LOCAL = `local:${process.env.USER ?? userInfo().username}`;
/** The serving process polls once a second; allow for a loaded machine (the measured time is printed). */
const PICKUP_MS = 5_000;

async function pendingCard(p: FaultProject, m: Mention) {
  return waitFor('the approval card', () => cardsIn(p, m.ts).find((c) => c.buttons.length > 0 && c.approvalId !== undefined), 15_000);
}

test('mithai approvals approve from another process while mithai run serves: picked up, run once, card and thread updated', async (t) => {
  const name = 'CLI approve while serving';
  const p = await makeFaultProject(t, name);
  const findings: Finding[] = [];
  const run = await startConnected(p);
  const m = mention(p, 'restart api');
  const card = await pendingCard(p, m);
  const cli = await p.cli(['approvals', 'approve', card.approvalId!]);
  if (cli.code !== 0) findings.push({ kind: 'other', message: `approvals approve exited ${cli.code}: ${cli.stderr}` });
  const ranAt = await waitFor('the tool to run', () => (p.effects().includes('restart api') ? Date.now() : undefined), PICKUP_MS).catch(() => undefined);
  if (ranAt === undefined) findings.push({ kind: 'other', message: `the serving process did not pick the CLI decision up within ${PICKUP_MS} ms` });
  const decidedAt = Date.parse(p.approvals()[0]?.decided_at ?? '');
  findings.push(...(await driveToEnd(p, run, [m.ts])));
  const shown = cardsIn(p, m.ts)[0];
  if (!shown?.text.includes(`Approved by ${LOCAL} (from the command line)`)) findings.push({ kind: 'other', message: `the card does not name the CLI decider: ${shown?.text.split('\n')[0]}` });
  if (JSON.stringify(p.effects()) !== '["restart api"]') findings.push({ kind: 'doubleExecutions', message: `effects.log is ${JSON.stringify(p.effects())}` });
  const decision = p.audit().filter((r) => r.event === 'decision');
  if (decision.length !== 1 || decision[0]!.decider !== LOCAL) findings.push({ kind: 'other', message: `decision records: ${JSON.stringify(decision.map((r) => [r.decision, r.decider]))}` });
  await finishScenario(t, p, run, { category: 'cli decisions', name, kills: 0, threads: [m.ts], findings, notes: ranAt === undefined ? [] : [`the tool ran ${ranAt - decidedAt} ms after the CLI decision was committed`] });
});

test('mithai approvals deny --reason from another process while mithai run serves: card denied, the model is told the reason', async (t) => {
  const name = 'CLI deny while serving';
  const p = await makeFaultProject(t, name);
  const findings: Finding[] = [];
  const run = await startConnected(p);
  const m = mention(p, 'restart api');
  const card = await pendingCard(p, m);
  const cli = await p.cli(['approvals', 'deny', card.approvalId!, '--reason', 'not during the freeze']);
  if (cli.code !== 0) findings.push({ kind: 'other', message: `approvals deny exited ${cli.code}: ${cli.stderr}` });
  const final = await waitFor('the card to show the denial', () => cardsIn(p, m.ts).find((c) => c.buttons.length === 0), PICKUP_MS).catch(() => undefined);
  if (final === undefined) findings.push({ kind: 'liveCards', message: `the card still offers buttons ${PICKUP_MS} ms after the CLI denied it` });
  findings.push(...(await driveToEnd(p, run, [m.ts])));
  const shown = cardsIn(p, m.ts)[0];
  if (!(shown?.text.includes(`Denied by ${LOCAL} (from the command line) at `) && shown.text.includes('(not during the freeze), not run'))) findings.push({ kind: 'other', message: `the card does not show the CLI denial: ${shown?.text.split('\n')[0]}` });
  if (!p.model.calls.some((c) => /denied by .*not during the freeze/s.test(lastUserText(c)))) findings.push({ kind: 'other', message: 'the model was not told the denial and its reason' });
  if (!botTexts(p, m.ts).some((x) => x.startsWith('Told:'))) findings.push({ kind: 'silentThreads', message: 'the thread did not get the reply after the denial' });
  if (p.effects().length > 0) findings.push({ kind: 'doubleExecutions', message: `a denied call ran: ${JSON.stringify(p.effects())}` });
  await finishScenario(t, p, run, { category: 'cli decisions', name, kills: 0, threads: [m.ts], findings });
});

test('two CLI processes approve the same approval at once: one wins, one decision record, one run', async (t) => {
  const name = 'two CLI approvals of one id at once';
  const p = await makeFaultProject(t, name);
  const findings: Finding[] = [];
  const run = await startConnected(p);
  const m = mention(p, 'restart api');
  const card = await pendingCard(p, m);
  const results = await Promise.all([p.cli(['approvals', 'approve', card.approvalId!]), p.cli(['approvals', 'approve', card.approvalId!])]);
  const codes = results.map((r) => r.code).sort();
  if (JSON.stringify(codes) !== '[0,1]') findings.push({ kind: 'other', message: `exit codes ${JSON.stringify(codes)}, expected one 0 and one 1: ${results.map((r) => r.stderr.trim()).join(' | ')}` });
  const loser = results.find((r) => r.code !== 0);
  if (loser && !/already approved/i.test(loser.stderr)) findings.push({ kind: 'other', message: `the losing CLI does not say it was already approved: ${loser.stderr.trim()}` });
  findings.push(...(await driveToEnd(p, run, [m.ts])));
  if (JSON.stringify(p.effects()) !== '["restart api"]') findings.push({ kind: 'doubleExecutions', message: `effects.log is ${JSON.stringify(p.effects())}` });
  await finishScenario(t, p, run, { category: 'cli decisions', name, kills: 0, threads: [m.ts], findings, notes: loser ? [`loser said: ${loser.stderr.trim()}`] : [] });
});

test('mithai approvals approve while mithai run is down (killed): the next start runs it once and the thread gets the reply', async (t) => {
  const name = 'CLI approve while mithai run is down';
  const p = await makeFaultProject(t, name);
  const findings: Finding[] = [];
  const first = await startConnected(p);
  const m = mention(p, 'restart api');
  const card = await pendingCard(p, m);
  await killHard(first);
  const cli = await p.cli(['approvals', 'approve', card.approvalId!]);
  if (cli.code !== 0) findings.push({ kind: 'other', message: `approvals approve exited ${cli.code}: ${cli.stderr}` });
  const second = await startConnected(p);
  findings.push(...(await driveToEnd(p, second, [m.ts])));
  if (JSON.stringify(p.effects()) !== '["restart api"]') findings.push({ kind: 'doubleExecutions', message: `effects.log is ${JSON.stringify(p.effects())}` });
  await finishScenario(t, p, second, { category: 'cli decisions', name, kills: 1, threads: [m.ts], findings });
});
