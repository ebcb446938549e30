/**
 * The two systems under test, as the figures see them, and the fakes they run against. Every
 * round starts fresh fakes (a new Slack workspace, a new model) and a fresh system, so nothing
 * carries over between rounds or between the two systems.
 */
import { FakeAnthropic } from '../../test/fakes/anthropic/fake-anthropic.ts';
import { FakeSlack } from '../../test/fakes/slack/fake-slack.ts';
import { opsScript } from '../lib/model-script.ts';
import { SlackObserver } from '../lib/slack-observer.ts';

export type SystemName = 'baseline' | 'mithai';

/** The fakes of one round. */
export interface Fakes {
  slack: FakeSlack;
  model: FakeAnthropic;
  observer: SlackObserver;
}

/** A system started in the bench process. */
export interface RunningSystem {
  name: SystemName;
  /** action_id of the button that approves a gated call. */
  approveActionId: string;
  /** Whether a post is an approval card. */
  isCard(blocks: unknown[]): boolean;
  /** mithai: called when an approval is decided `approved` and durable (after commit and audit flush). */
  onApprovedDurable?(listener: (thread: string, at: number) => void): () => void;
  stop(): Promise<void>;
}

/** How to start one system against a round's fakes. */
export interface SystemUnderTest {
  name: SystemName;
  start(fakes: Fakes): Promise<RunningSystem>;
}

/** Slack's ack deadline is 3 s; the fake waits longer so a late ack is counted, not lost. */
export const FAKE_ACK_TIMEOUT_MS = 15_000;

export const CHANNEL = 'C0OPS00001';
export const ALICE = 'UALICE0001';
export const BOB = 'UBOB000001';

/** Start fresh fakes, run `fn`, stop them (after `fn` has stopped its system). */
export async function withFakes<T>(fn: (fakes: Fakes) => Promise<T>): Promise<T> {
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }], ackTimeoutMs: FAKE_ACK_TIMEOUT_MS });
  const model = await FakeAnthropic.start(opsScript());
  const observer = new SlackObserver(slack);
  try {
    return await fn({ slack, model, observer });
  } finally {
    observer.stop();
    await slack.stop();
    await model.stop();
  }
}

/** Start a system on fresh fakes, run `fn`, stop the system, then the fakes. */
export async function withSystem<T>(sut: SystemUnderTest, fn: (system: RunningSystem, fakes: Fakes) => Promise<T>): Promise<T> {
  return withFakes(async (fakes) => {
    const system = await sut.start(fakes);
    try {
      return await fn(system, fakes);
    } finally {
      await system.stop();
    }
  });
}
