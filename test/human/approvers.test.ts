import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkDecider } from '../../src/human/approvers.ts';
import type { Approval } from '../../src/human/types.ts';
import { approval as approvalFixture } from '../fixtures/approval.ts';

function approval(level: 'approve' | 'confirm'): Approval {
  return approvalFixture({
    id: 'apr_1', sessionKey: 's', tool: 'k8s__delete_namespace', toolDescription: 'd', level, fingerprint: 'f',
    inputJson: '{}', requester: 'U1', thread: '1.0', confirmPhrase: level === 'confirm' ? 'prod' : null,
  });
}

/*
 * Who may decide: the requester and anyone matching human.approvers, nobody else. With
 * confirm_requires_second_person, a confirm call needs a second person to approve it; the
 * requester may still deny. A refusal explains itself, because the clicker sees it.
 */
describe('checkDecider', () => {
  const base = { approvers: ['U9', 'UOPS*', '!UOPSBOT'], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: false };

  test('the requester may approve and deny their own call', () => {
    for (const decision of ['approve', 'deny'] as const) {
      assert.deepEqual(checkDecider({ ...base, approval: approval('approve'), decider: 'U1', decision }), { ok: true });
      assert.deepEqual(checkDecider({ ...base, approval: approval('confirm'), decider: 'U1', decision }), { ok: true });
    }
  });

  test('anyone matching an approver pattern may decide', () => {
    assert.deepEqual(checkDecider({ ...base, approval: approval('approve'), decider: 'U9', decision: 'approve' }), { ok: true });
    assert.deepEqual(checkDecider({ ...base, approval: approval('confirm'), decider: 'UOPS42', decision: 'deny' }), { ok: true });
  });

  test('anyone else is refused with a message naming who may decide', () => {
    for (const decider of ['U2', 'UOPSBOT', '']) {
      assert.deepEqual(checkDecider({ ...base, approval: approval('approve'), decider, decision: 'approve' }), {
        ok: false,
        message: 'Only the requester <@U1> or an approver listed in human.approvers can decide this.',
      });
    }
  });

  test('an empty approvers list leaves only the requester', () => {
    assert.equal(checkDecider({ approval: approval('approve'), decider: 'U9', decision: 'approve', approvers: [], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: false }).ok, false);
    assert.equal(checkDecider({ approval: approval('approve'), decider: 'U1', decision: 'approve', approvers: [], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: false }).ok, true);
  });

  test('with a second person required, the requester cannot approve their own confirm call, even as an approver', () => {
    const verdict = checkDecider({ approval: approval('confirm'), decider: 'U1', decision: 'approve', approvers: ['U1', 'U9'], confirmRequiresSecondPerson: true, taintedRequiresSecondPerson: false });
    assert.equal(verdict.ok, false);
    assert.equal(
      verdict.ok ? '' : verdict.message,
      'You asked for this call, and confirm calls need a second person (human.confirm_requires_second_person): ' +
        'ask another approver listed in human.approvers to confirm it, or set human.confirm_requires_second_person: false in config.yaml for a solo setup. You can still deny it.',
    );
  });

  test('the local login is the same person from the CLI: local:U1 cannot confirm what U1 asked for', () => {
    const verdict = checkDecider({ approval: approval('confirm'), decider: 'local:U1', decision: 'approve', approvers: ['local:*'], confirmRequiresSecondPerson: true, taintedRequiresSecondPerson: false });
    assert.match(verdict.ok ? '' : verdict.message, /^You asked for this call, and confirm calls need a second person/);
    assert.deepEqual(checkDecider({ approval: approval('confirm'), decider: 'local:U2', decision: 'approve', approvers: ['local:*'], confirmRequiresSecondPerson: true, taintedRequiresSecondPerson: false }), { ok: true });
  });

  test('with nobody else in human.approvers, the solo requester is told to add one or turn the rule off', () => {
    const verdict = checkDecider({ approval: approval('confirm'), decider: 'U1', decision: 'approve', approvers: [], confirmRequiresSecondPerson: true, taintedRequiresSecondPerson: false });
    const message = verdict.ok ? '' : verdict.message;
    assert.match(message, /human\.approvers lists nobody else, so add a second approver there to confirm it/);
    assert.match(message, /set human\.confirm_requires_second_person: false in config\.yaml for a solo setup/);
  });

  test('a tainted confirm call shows the taint refusal, naming both settings for a solo setup', () => {
    const tainted = { ...approval('confirm'), taint: [{ kind: 'tool_output' as const, source: 'http__http_get' }] };
    const verdict = checkDecider({ approval: tainted, decider: 'U1', decision: 'approve', approvers: ['U9'], confirmRequiresSecondPerson: true, taintedRequiresSecondPerson: true });
    const message = verdict.ok ? '' : verdict.message;
    assert.match(message, /^Untrusted content is in this conversation \(output of http__http_get\)/);
    assert.match(message, /Set human\.tainted_requires_second_person: false and human\.confirm_requires_second_person: false in config\.yaml/);
  });

  test('with a second person required, the requester may still deny, and another approver may approve', () => {
    const second = { ...base, confirmRequiresSecondPerson: true };
    assert.deepEqual(checkDecider({ ...second, approval: approval('confirm'), decider: 'U1', decision: 'deny' }), { ok: true });
    assert.deepEqual(checkDecider({ ...second, approval: approval('confirm'), decider: 'U9', decision: 'approve' }), { ok: true });
  });

  test('the second-person rule applies to confirm only', () => {
    assert.deepEqual(checkDecider({ ...base, confirmRequiresSecondPerson: true, approval: approval('approve'), decider: 'U1', decision: 'approve' }), { ok: true });
  });
});
