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
 * - Every click and submission is bound to its card and its workspace: the payload's team (and
 *   Enterprise org) must be the app's own, a click must come from the very message that is the
 *   approval's recorded card (channel + ts), and a modal submission must be of a view mithai
 *   opened, for that approval, for that user. A click that arrives while the card's post is
 *   still on its way back (Slack shows the card first) waits up to a second for it to be
 *   recorded, then is checked the same way. Anything else changes nothing and is logged as a
 *   refused forgery (`slack.forgery_refused`). A submission's workspace is the one the app is
 *   installed in (`view.app_installed_team_id`): Slack names the submitter's own workspace in
 *   `team` when the modal was opened from a Slack Connect channel.
 * - People of another organisation (./organisation.ts, from `user.team_id`, else users.info)
 *   may not click, open a form, submit one or see the full input while
 *   `adapter.slack.allow_external_users` is false, whatever `human.approvers` or a wildcard
 *   says; when mithai cannot tell, it refuses. They get an ephemeral explanation, nothing
 *   changes (checked before `engine.decide` and before any modal opens), and it is logged as
 *   `slack.external_refused`.
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
import { parseRef } from './card-ref.ts';
import { confirmModal, denyModal, INPUTS, MODALS, typedPhrase, typedReason } from './approval-modals.ts';
import type { Organisation } from './organisation.ts';
import type { SlackAdapter } from './slack-adapter.ts';
import { SharedChannelRefusal } from './slack-poster.ts';
import type { SlackPoster } from './slack-poster.ts';
import type { TaskTracker } from './task-tracker.ts';

/** What the approval listeners work with. */
export interface ApprovalActionsOptions {
  engine: Pick<Engine, 'approval' | 'decide' | 'checkDecider'>;
  adapter: SlackAdapter;
  poster: SlackPoster;
  tracker: TaskTracker;
  /** The app's own workspace (and Enterprise org): payloads from anywhere else are refused. */
  teamId: string;
  enterpriseId?: string;
  /** `adapter.slack.allowed_users` (who may see the full input). */
  allowedUsers: readonly string[];
  /** Who is from another organisation. */
  organisation: Organisation;
  /** `adapter.slack.allow_external_users`: people of other organisations may decide (the lists still apply). */
  allowExternalUsers: boolean;
  logger: Logger;
  redact(text: string): string;
}

const UNKNOWN = 'Unknown approval; nothing was decided.';
const NOT_THIS_CARD = 'This button is not on the card of this approval; nothing was decided.';
const NOT_OUR_FORM = 'This form was not opened by mithai for you and this approval (or mithai restarted since); close it and click the button on the card again. Nothing was decided.';
/**
 * How long a click on a card whose place is not recorded yet waits for the card's post to come
 * back. An Approve click is decided before its ack, so this stays well inside Slack's 3 s.
 */
const CARD_POST_WAIT_MS = 1_000;
/** Views opened for approvals are remembered this long (Slack closes idle modals well before). */
const VIEW_TTL_MS = 60 * 60 * 1000;
const NOT_RECORDED = 'Your decision could not be recorded (the audit log or the database failed), so nothing was decided. Tell an operator.';
const OUTSIDER = 'Only people of this organisation can act on approvals, and I could not confirm that you are one (Slack Connect); nothing was decided. An operator can admit people of other organisations with adapter.slack.allow_external_users.';

/** The clicker or submitter as a payload names them. */
interface Actor {
  id: string;
  team_id?: string;
}

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
    const found = await lookup(o, body, action.value ?? '');
    const user = body.user.id;
    const outsider = found.approval ? await outsiderRefusal(o, body.user, found.approval.id) : undefined;
    let after: () => Promise<void>;
    if (!found.approval) after = () => answer(o, found.place, user, found.refusal ?? UNKNOWN);
    else if (outsider !== undefined) after = () => answer(o, found.place, user, outsider);
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

  // Views mithai opened for an approval, by view id: a submission must be of one of these.
  const opened = new Map<string, { approvalId: string; user: string; callbackId: string; at: number }>();
  const remember = (viewId: string, approvalId: string, user: string, callbackId: string): void => {
    const now = Date.now();
    for (const [key, entry] of opened) if (now - entry.at > VIEW_TTL_MS) opened.delete(key);
    if (viewId) opened.set(viewId, { approvalId, user, callbackId, at: now });
  };

  click(ACTIONS.deny, 'deny click', async (body, id) => {
    const found = await lookup(o, body, id);
    const refusal = found.refusal ?? (found.approval ? await outsiderRefusal(o, body.user, id) : undefined) ?? precheck(o, found.approval, body.user.id, 'deny');
    if (refusal !== undefined) return answer(o, found.place, body.user.id, refusal);
    const viewId = await openModal(o, body, found.place, denyModal(found.approval!, o.redact));
    if (viewId !== undefined) remember(viewId, found.approval!.id, body.user.id, MODALS.deny);
  });

  click(ACTIONS.confirm, 'confirm click', async (body, id) => {
    const found = await lookup(o, body, id);
    const refusal = found.refusal ?? (found.approval ? await outsiderRefusal(o, body.user, id) : undefined) ?? precheck(o, found.approval, body.user.id, 'approve');
    if (refusal !== undefined) return answer(o, found.place, body.user.id, refusal);
    const viewId = await openModal(o, body, found.place, confirmModal(found.approval!, o.redact));
    if (viewId !== undefined) remember(viewId, found.approval!.id, body.user.id, MODALS.confirm);
  });

  click(ACTIONS.showInput, 'show input click', async (body, id) => {
    const found = await lookup(o, body, id);
    if (!found.approval) return answer(o, found.place, body.user.id, found.refusal ?? UNKNOWN);
    const outsider = await outsiderRefusal(o, body.user, id);
    if (outsider !== undefined) return answer(o, found.place, body.user.id, outsider);
    if (!matchesAllowlist(body.user.id, o.allowedUsers)) {
      return answer(o, found.place, body.user.id, 'Only people on the allowlist (adapter.slack.allowed_users) can see the full input.');
    }
    for (const text of fullInputMessages(found.approval, o.redact)) await answer(o, found.place, body.user.id, text);
  });

  const submit = (callbackId: string, decision: Decision, options: (view: ViewSubmitAction['view']) => DecideOptions, inputBlock: string): void => {
    app.view<ViewSubmitAction>(callbackId, async ({ ack, body, view }) => {
      const user = body.user.id;
      const mine = opened.get(view.id);
      const foreign = foreignSubmission(o, body as { team?: { id?: string } | null; enterprise?: { id?: string } | null }, view);
      if (foreign !== undefined || mine === undefined || mine.user !== user || mine.approvalId !== view.private_metadata || mine.callbackId !== callbackId) {
        const reason = foreign ?? (mine === undefined ? 'view not opened by mithai' : 'view opened for another user or approval');
        o.logger.warn({ approval_id: view.private_metadata, user, view_id: view.id, reason }, 'slack.forgery_refused');
        await ack(o.poster.redactValue({ response_action: 'errors' as const, errors: { [inputBlock]: NOT_OUR_FORM } }));
        return;
      }
      const approval = safeGet(o, view.private_metadata);
      if (!approval) {
        await ack(o.poster.redactValue({ response_action: 'errors' as const, errors: { [inputBlock]: UNKNOWN } }));
        return;
      }
      const outsider = await outsiderRefusal(o, body.user, approval.id);
      if (outsider !== undefined) {
        await ack(o.poster.redactValue({ response_action: 'errors' as const, errors: { [inputBlock]: outsider } }));
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
    const reason = typedReason(view.state.values, o.redact);
    return reason === undefined ? {} : { reason };
  }, INPUTS.reason.block);
}

/** One decision through the engine. Never throws: a failure to record is a refusal (nothing was decided). */
function decide(o: ApprovalActionsOptions, approval: Approval, user: string, decision: Decision, options: DecideOptions): DecideResult {
  try {
    return o.engine.decide(approval.id, user, decision, { ...options, via: 'slack' });
  } catch (err) {
    o.logger.error({ approval_id: approval.id, decider: user, err: errorMessage(err) }, 'approval.decision_failed');
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

/**
 * The approval a click names, when the click is bound to it: same workspace, and clicked on the
 * approval's own card. A click that is not is answered where it was made and changes nothing.
 */
async function lookup(o: ApprovalActionsOptions, body: BlockAction<ButtonAction>, id: string): Promise<{ approval: Approval | undefined; place: Place; refusal?: string }> {
  const container = body.container as { channel_id?: unknown; thread_ts?: unknown; message_ts?: unknown };
  const clickedChannel = body.channel?.id ?? String(container.channel_id ?? '');
  const clicked: Place = { channel: clickedChannel, ...(typeof container.thread_ts === 'string' ? { thread: container.thread_ts } : {}) };
  const foreign = foreignWorkspace(o, body);
  if (foreign !== undefined) {
    o.logger.warn({ approval_id: id, user: body.user.id, reason: foreign }, 'slack.forgery_refused');
    return { approval: undefined, place: clicked, refusal: NOT_THIS_CARD };
  }
  let approval = safeGet(o, id);
  if (!approval) return { approval, place: clicked };
  let card = parseRef(approval.displayRef);
  if (card === undefined) {
    // The card's post may still be on its way back (Slack shows a card before it answers the
    // post): wait a moment for it, then look again. Still unknown means refused.
    await o.adapter.cardWorkSettled(id, CARD_POST_WAIT_MS);
    approval = safeGet(o, id);
    if (!approval) return { approval, place: clicked };
    card = parseRef(approval.displayRef);
  }
  const clickedTs = typeof container.message_ts === 'string' ? container.message_ts : body.message?.ts;
  if (card === undefined || card.channel !== clickedChannel || card.ts !== clickedTs) {
    // Fail closed: a card whose place is not recorded yet cannot be told from a forged one.
    o.logger.warn({ approval_id: id, user: body.user.id, channel: clickedChannel, ts: clickedTs, reason: card === undefined ? 'card not recorded' : 'not the approval card', display_ref: approval.displayRef }, 'slack.forgery_refused');
    return { approval: undefined, place: clicked, refusal: NOT_THIS_CARD };
  }
  return { approval, place: { channel: approval.channel, thread: approval.thread } };
}

/**
 * Why `actor` may not act on approval `approvalId` as someone of another organisation, or
 * undefined when they may (inside, or `allow_external_users`). Logs a refusal.
 */
async function outsiderRefusal(o: ApprovalActionsOptions, actor: Actor, approvalId: string): Promise<string | undefined> {
  if (o.allowExternalUsers) return undefined;
  const answer = await o.organisation.user(actor.id, actor.team_id);
  if (!answer.isOutside) return undefined;
  o.logger.warn({ approval_id: approvalId, user: actor.id, team: actor.team_id, reason: 'external user', detail: answer.reason }, 'slack.external_refused');
  return OUTSIDER;
}

/**
 * Why a view submission is not from the app's own workspace, or undefined when it is. A modal
 * opened from a Slack Connect channel names the submitter's workspace (and org) in `team`, and
 * the app's in `view.app_installed_team_id`: that one, when present, is what must be the app's.
 */
function foreignSubmission(o: ApprovalActionsOptions, body: { team?: { id?: string } | null; enterprise?: { id?: string } | null }, view: ViewSubmitAction['view']): string | undefined {
  const installed = view.app_installed_team_id;
  if (installed === undefined || installed === '') return foreignWorkspace(o, body);
  return installed === o.teamId ? undefined : `app_installed_team_id ${installed} is not the app's team`;
}

/** Why a payload is not from the app's own workspace, or undefined when it is. */
function foreignWorkspace(o: ApprovalActionsOptions, body: { team?: { id?: string } | null; enterprise?: { id?: string } | null }): string | undefined {
  if (body.team?.id !== o.teamId) return `team ${body.team?.id ?? '(none)'} is not the app's team`;
  const enterprise = body.enterprise?.id;
  if (enterprise !== undefined && enterprise !== null && enterprise !== o.enterpriseId) return `enterprise ${enterprise} is not the app's`;
  return undefined;
}

function safeGet(o: ApprovalActionsOptions, id: string): Approval | undefined {
  if (!id) return undefined;
  try {
    return o.engine.approval(id);
  } catch (err) {
    // An unreadable row (unknown version) cannot be decided here: fail closed, say unknown.
    o.logger.error({ approval_id: id, err: errorMessage(err) }, 'approval.read_failed');
    return undefined;
  }
}

/**
 * Open a modal with the click's trigger (good once, for 3 s). When Slack refuses (the trigger
 * expired because Slack or we were slow), the clicker is told to click again; nothing changed.
 */
/** @returns the opened view's id, or undefined when it could not be opened. */
async function openModal(o: ApprovalActionsOptions, body: BlockAction<ButtonAction>, place: Place, view: object): Promise<string | undefined> {
  try {
    return await o.poster.openView(body.trigger_id, view);
  } catch (err) {
    o.logger.warn({ user: body.user.id, err: errorMessage(err) }, 'slack.form_open_failed');
    await answer(o, place, body.user.id, 'The form could not be opened (Slack refused it, possibly because the click took too long to reach me). Nothing was decided; click the button again.');
    return undefined;
  }
}

async function answer(o: ApprovalActionsOptions, place: Place, user: string, text: string): Promise<void> {
  if (!place.channel) return;
  try {
    await o.poster.ephemeral(place.channel, user, text, place.thread);
  } catch (err) {
    // A channel shared with another organisation gets nothing (the poster logged the refusal).
    if (!(err instanceof SharedChannelRefusal)) throw err;
  }
}
