/**
 * Clicks on approval cards and submissions of the approval modals, turned into gate decisions.
 *
 * Rules these listeners keep:
 * - Button values and `private_metadata` carry only the approval id; everything else is read
 *   from the approval row. The gate re-checks the decider, the deadline and the state on every
 *   decision, and the fingerprint is recomputed from the stored input and must match the one
 *   the approval was opened with (a row whose input changed cannot be decided).
 * - Permission is checked before a modal opens too, so someone who may not decide never gets a
 *   form that pretends they could; they get an ephemeral explanation and nothing changes.
 * - The first valid decision wins (the gate's atomic update); double clicks, late clicks and
 *   unknown ids only get an ephemeral message.
 * - Clicks are acked at once (Slack wants an ack within 3 s) and the work runs tracked in the
 *   background; modal submissions are decided *before* the ack, because the ack is the answer
 *   (`response_action: errors` keeps the modal open with the reason).
 */
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import { errorMessage } from '../../errors.ts';
import type { ApprovalGate, DecideOptions } from '../../human/approval-gate.ts';
import { checkDecider } from '../../human/approvers.ts';
import { fingerprint } from '../../human/fingerprint.ts';
import { settledRefusal } from '../../human/settled-refusal.ts';
import type { Approval, DecideResult, Decision } from '../../human/types.ts';
import { matchesAllowlist } from '../../security/allowlist.ts';
import { ACTIONS, fullInputMessages } from './approval-card.ts';
import { confirmModal, denyModal, INPUTS, MODALS, typedPhrase, typedReason } from './approval-modals.ts';
import type { SlackAdapter } from './slack-adapter.ts';
import type { SlackPoster } from './slack-poster.ts';
import type { TaskTracker } from './task-tracker.ts';

/** What the approval listeners work with. */
export interface ApprovalActionsOptions {
  gate: Pick<ApprovalGate, 'get' | 'decide'>;
  adapter: SlackAdapter;
  poster: SlackPoster;
  tracker: TaskTracker;
  /** `human.approvers` and `human.confirm_requires_second_person`, for the pre-modal check. */
  approvers: readonly string[];
  confirmRequiresSecondPerson: boolean;
  /** `adapter.slack.allowed_users` (who may see the full input). */
  allowedUsers: readonly string[];
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  redact(text: string): string;
}

const UNKNOWN = 'Unknown approval; nothing was decided.';
const NOT_RECORDED = 'Your decision could not be recorded (the audit log or the database failed), so nothing was decided. Tell an operator.';

/** Where to answer a clicker: the approval's thread, or the clicked message's when unknown. */
interface Place {
  channel: string;
  thread?: string;
}

/** Register the card buttons and modal submissions on `app`. */
export function registerApprovalActions(app: App, o: ApprovalActionsOptions): void {
  const click = (actionId: string, name: string, work: (body: BlockAction<ButtonAction>, id: string) => Promise<void>): void => {
    app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      o.tracker.run(name, () => work(body, action.value ?? ''));
    });
  };

  click(ACTIONS.approve, 'approve click', async (body, id) => {
    const found = lookup(o, body, id);
    if (!found.approval) return answer(o, found.place, body.user.id, UNKNOWN);
    if (found.approval.level === 'confirm') {
      return answer(o, found.place, body.user.id, 'This call needs its confirmation phrase: use the Confirm… button.');
    }
    await decideAndShow(o, found.approval, body.user.id, 'approve', {}, found.place);
  });

  click(ACTIONS.deny, 'deny click', async (body, id) => {
    const found = lookup(o, body, id);
    const refusal = precheck(o, found.approval, body.user.id, 'deny');
    if (refusal !== undefined) return answer(o, found.place, body.user.id, refusal);
    await openModal(o, body, found.place, denyModal(found.approval!, o.redact));
  });

  click(ACTIONS.confirm, 'confirm click', async (body, id) => {
    const found = lookup(o, body, id);
    const refusal = precheck(o, found.approval, body.user.id, 'approve');
    if (refusal !== undefined) return answer(o, found.place, body.user.id, refusal);
    await openModal(o, body, found.place, confirmModal(found.approval!, o.redact));
  });

  click(ACTIONS.showInput, 'show input click', async (body, id) => {
    const found = lookup(o, body, id);
    if (!found.approval) return answer(o, found.place, body.user.id, UNKNOWN);
    if (!matchesAllowlist(body.user.id, o.allowedUsers)) {
      return answer(o, found.place, body.user.id, 'Only people on the allowlist (adapter.slack.allowed_users) can see the full input.');
    }
    for (const text of fullInputMessages(found.approval, o.redact)) await answer(o, found.place, body.user.id, text);
  });

  const submit = (callbackId: string, decision: Decision, options: (view: ViewSubmitAction['view']) => DecideOptions, inputBlock: string): void => {
    app.view<ViewSubmitAction>(callbackId, async ({ ack, body, view }) => {
      const user = body.user.id;
      const approval = safeGet(o, view.private_metadata);
      if (!approval) {
        await ack(o.poster.redactValue({ response_action: 'errors' as const, errors: { [inputBlock]: UNKNOWN } }));
        return;
      }
      const result = decide(o, approval, user, decision, options(view));
      if (!result.ok && result.refusal === 'wrong_phrase') {
        // Nothing ran and nothing changed: keep the modal open and say why, right there.
        await ack(o.poster.redactValue({ response_action: 'errors' as const, errors: { [inputBlock]: result.message } }));
        return;
      }
      await ack();
      const place = { channel: approval.channel, thread: approval.thread };
      o.tracker.run(`${callbackId} submission`, async () => {
        if (result.ok) await o.adapter.showDecision(result.approval);
        else await answer(o, place, user, refusalText(result));
      });
    });
  };
  submit(MODALS.confirm, 'approve', (view) => ({ typedPhrase: typedPhrase(view.state.values) }), INPUTS.phrase.block);
  submit(MODALS.deny, 'deny', (view) => {
    const reason = typedReason(view.state.values);
    return reason === undefined ? {} : { reason };
  }, INPUTS.reason.block);
}

async function decideAndShow(o: ApprovalActionsOptions, approval: Approval, user: string, decision: Decision, options: DecideOptions, place: Place): Promise<void> {
  const result = decide(o, approval, user, decision, options);
  if (result.ok) await o.adapter.showDecision(result.approval);
  else await answer(o, place, user, refusalText(result));
}

/**
 * One decision through the gate, with the fingerprint recomputed from the stored input. Never
 * throws: a failure to record is a refusal (nothing was decided).
 */
function decide(o: ApprovalActionsOptions, approval: Approval, user: string, decision: Decision, options: DecideOptions): DecideResult {
  try {
    const expected = fingerprint(approval.tool, JSON.parse(approval.inputJson));
    return o.gate.decide(approval.id, user, decision, { ...options, fingerprint: expected });
  } catch (err) {
    o.logger.error({ approval_id: approval.id, decider: user, err: errorMessage(err) }, 'decision could not be taken');
    return { ok: false, refusal: 'not_found', message: NOT_RECORDED, approval };
  }
}

/** Why `user` may not make `decision` now (before opening a modal), or undefined when they may. */
function precheck(o: ApprovalActionsOptions, approval: Approval | undefined, user: string, decision: Decision): string | undefined {
  if (!approval) return UNKNOWN;
  if (approval.state !== 'pending') return settledRefusal(approval).message;
  if (o.clock.now() >= Date.parse(approval.deadline)) return settledRefusal(approval).message;
  const verdict = checkDecider({ approval, decider: user, decision, approvers: o.approvers, confirmRequiresSecondPerson: o.confirmRequiresSecondPerson });
  return verdict.ok ? undefined : verdict.message;
}

function refusalText(result: Extract<DecideResult, { ok: false }>): string {
  return result.refusal === 'not_found' && result.approval === undefined ? UNKNOWN : result.message;
}

function lookup(o: ApprovalActionsOptions, body: BlockAction<ButtonAction>, id: string): { approval: Approval | undefined; place: Place } {
  const approval = safeGet(o, id);
  const container = body.container as { channel_id?: unknown; thread_ts?: unknown };
  const clicked: Place = {
    channel: body.channel?.id ?? String(container.channel_id ?? ''),
    ...(typeof container.thread_ts === 'string' ? { thread: container.thread_ts } : {}),
  };
  return { approval, place: approval ? { channel: approval.channel, thread: approval.thread } : clicked };
}

function safeGet(o: ApprovalActionsOptions, id: string): Approval | undefined {
  if (!id) return undefined;
  try {
    return o.gate.get(id);
  } catch (err) {
    // An unreadable row (unknown version) cannot be decided here: fail closed, say unknown.
    o.logger.error({ approval_id: id, err: errorMessage(err) }, 'approval could not be read');
    return undefined;
  }
}

/**
 * Open a modal with the click's trigger (good once, for 3 s). When Slack refuses (the trigger
 * expired because Slack or we were slow), the clicker is told to click again; nothing changed.
 */
async function openModal(o: ApprovalActionsOptions, body: BlockAction<ButtonAction>, place: Place, view: object): Promise<void> {
  try {
    await o.poster.openView(body.trigger_id, view);
  } catch (err) {
    o.logger.warn({ user: body.user.id, err: errorMessage(err) }, 'could not open the approval form');
    await answer(o, place, body.user.id, 'The form could not be opened (Slack refused it, possibly because the click took too long to reach me). Nothing was decided; click the button again.');
  }
}

async function answer(o: ApprovalActionsOptions, place: Place, user: string, text: string): Promise<void> {
  if (!place.channel) return;
  await o.poster.ephemeral(place.channel, user, text, place.thread);
}
