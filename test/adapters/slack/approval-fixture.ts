/**
 * A persisted-looking {@link Approval} for rendering tests: pending, approve level, with the
 * given fields overridden.
 */
import type { Approval } from '../../../src/human/types.ts';

export function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    version: 1,
    id: 'apr_0123456789ab',
    callId: 'toolu_1',
    sessionKey: 'slack:T1:C1:1700000000.000100',
    tool: 'ops__restart',
    toolDescription: 'Restart a service',
    level: 'approve',
    levelReason: 'declared',
    fingerprint: 'f'.repeat(64),
    inputJson: JSON.stringify({ service: 'api' }),
    requester: 'UALICE0001',
    channel: 'C1',
    thread: '1700000000.000100',
    confirmPhrase: null,
    state: 'pending',
    createdAt: '2025-01-01T00:00:00.000Z',
    deadline: '2025-01-01T00:05:00.000Z',
    decider: null,
    decidedAt: null,
    reason: null,
    outcome: null,
    finishedAt: null,
    displayRef: null,
    ...overrides,
  };
}
