/**
 * Clicks on approval cards and submissions of the approval modals, turned into calls of the
 * engine's one decision entry point (`Engine.decide`, by approval id).
 *
 * Rules these listeners keep:
 * - Button values and `private_metadata` carry only the approval id; everything else is read
 *   from the approval row. The engine re-checks the decider, the deadline, the state and the
 *   fingerprint on every decision.
 * - Permission is checked before a modal opens too, so someone who may not decide never gets a
 *   form that pretends they could; they get an ephemeral explanation and nothing changes.
 * - The first valid decision wins (the gate's atomic update); double clicks, late clicks and
 *   unknown ids only get an ephemeral message.
 * - A decision is durable *before* it is acknowledged: an Approve click is decided (a
 *   synchronous SQLite write, far inside Slack's 3 s) and then acked, so a crash after the ack
 *   never loses a click; the card update and the tool run follow in the background. Modal
 *   submissions are decided before the ack too, because the ack is the answer
 *   (`response_action: errors` keeps the modal open with the reason). Buttons that only open a
 *   modal change nothing and are acked at once.
 */
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.ts';
import { faultPoint } from '../../fault-point.ts';
import type { Engine } from '../../engine/engine.ts';
import type { DecideOptions } from '../../human/approval-gate.ts';
import type { Approval, DecideResult, Decision } from '../../human/types.ts';
import { matchesAllowlist } from '../../security/allowlist.ts';
import { ACTIONS, fullInputMessages } from './approval-card.ts';
import { confirmModal, denyModal, INPUTS, MODALS, typedPhrase, typedReason } from './approval-modals.ts';
import type { SlackAdapter } from './slack-adapter.ts';
import type { SlackPoster } from './slack-poster.ts';
import type { TaskTracker } from './task-tracker.ts';

/** What the approval listeners work with. */
export interface ApprovalActionsOptions {
  engine: Pick<Engine, 'approval' | 'decide' | 'checkDecider'>;
  adapter: SlackAdapter;
  poster: SlackPoster;
  tracker: TaskTracker;
  /** `adapter.slack.allowed_users` (who may see the full input). */
  allowedUsers: readonly string[];
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

  // Approve is decided before the ack (see the module comment); the rest runs after it.
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTIONS.approve }, async ({ ack, body, action }) => {
    const found = lookup(o, body, action.value ?? '');
    const user = body.user.id;
    let after: () => Promise<void>;
    if (!found.approval) after = () => answer(o, found.place, user, UNKNOWN);
    else if (found.approval.level === 'confirm') after = () => answer(o, found.place, user, 'This call needs its confirmation phrase: use the Confirm… button.');
    else {
      const result = decide(o, found.approval, user, 'approve', {});
      if (result.ok) faultPoint('decision.committed');
      after = async () => {
        if (result.ok) await o.adapter.showDecision(result.approval);
        else await answer(o, found.place, user, refusalText(result));
      };
    }
    await ack();
    faultPoint('click.acked');
    o.tracker.run('approve click', after);
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

/** One decision through the engine. Never throws: a failure to record is a refusal (nothing was decided). */
function decide(o: ApprovalActionsOptions, approval: Approval, user: string, decision: Decision, options: DecideOptions): DecideResult {
  try {
    return o.engine.decide(approval.id, user, decision, { ...options, via: 'slack' });
  } catch (err) {
    o.logger.error({ approval_id: approval.id, decider: user, err: errorMessage(err) }, 'decision could not be taken');
    return { ok: false, refusal: 'not_found', message: NOT_RECORDED, approval };
  }
}

/** Why `user` may not make `decision` now (before opening a modal), or undefined when they may. */
function precheck(o: ApprovalActionsOptions, approval: Approval | undefined, user: string, decision: Decision): string | undefined {
  if (!approval) return UNKNOWN;
  return o.engine.checkDecider(approval, user, decision);
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
    return o.engine.approval(id);
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
