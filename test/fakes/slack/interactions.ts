/**
 * What a user can do with the app's UI, derived from the fake's state: click a button that is
 * really on a posted (or ephemeral) message, and submit a modal the app really opened, with
 * `state.values` shaped from its input blocks. Also applies the app's view_submission ack
 * (`errors`, `update`, `push`, `clear`, or close) the way Slack would.
 *
 * Anything a real user could not do throws: a button that was never posted, a value the button
 * does not carry, an option that is not offered, an empty required input, a closed view.
 * Not modelled: buttons inside modals or Home tabs, selects in messages, `view_closed`.
 */
import { findButton, elementsOf, str, wireMessage } from './blocks.ts';
import { blockActions, userRef, viewSubmission } from './payloads.ts';
import type { SlackState } from './state.ts';
import type { Ack, JsonObject, OpenedView } from './types.ts';
import { validateModalView, validateViewErrors } from './validation.ts';
import { closeStack, openView, replaceView } from './web-api-views.ts';

/** A click on a button of a message the bot posted. */
export interface ClickOptions {
  user: string;
  channel: string;
  messageTs: string;
  actionId: string;
  /** Must match the posted button's value when given. */
  value?: string;
  blockId?: string;
}

/** Build the block_actions payload for a click, or throw if no user could make that click. */
export function buildClick(state: SlackState, o: ClickOptions): JsonObject {
  state.rememberUser(o.user);
  const message = state.findMessage(o.channel, o.messageTs);
  const ephemeral = message ? undefined : state.ephemerals.find((e) => e.ts === o.messageTs && e.channel === o.channel && e.user === o.user);
  if (!message && !ephemeral) throw new Error(`fake-slack: no message ${o.messageTs} in ${o.channel} that ${o.user} can see`);
  const button = findButton(message?.blocks ?? ephemeral?.blocks, o.actionId, o.blockId);
  if (!button) throw new Error(`fake-slack: message ${o.messageTs} has no button with action_id ${o.actionId}${o.blockId ? ` in block ${o.blockId}` : ''}`);
  const posted = str(button.element.value);
  if (o.value !== undefined && o.value !== posted) {
    throw new Error(`fake-slack: button ${o.actionId} carries value ${JSON.stringify(posted)}, not ${JSON.stringify(o.value)}`);
  }
  const threadTs = message?.thread_ts ?? ephemeral?.thread_ts;
  const triggerId = state.issueTrigger(o.user);
  const responseUrl = state.issueResponseUrl({
    channel: o.channel, user: o.user, ...(message ? { messageTs: message.ts } : { ephemeralTs: o.messageTs }), ...(threadTs ? { threadTs } : {}),
  });
  return blockActions(state.config, {
    // The clicker's home team; `team` stays the app's workspace, as Slack sends in Slack Connect channels.
    user: userRef(state.config, o.user, state.users.get(o.user)?.name ?? o.user, state.teamOf(o.user)),
    channel: o.channel,
    messageTs: o.messageTs,
    ...(threadTs ? { threadTs } : {}),
    ...(message ? { message: wireMessage(message) } : {}),
    isEphemeral: !message,
    triggerId,
    responseUrl,
    action: {
      type: 'button',
      action_id: o.actionId,
      block_id: button.blockId,
      text: button.element.text,
      ...(posted !== undefined ? { value: posted } : {}),
      ...(button.element.style !== undefined ? { style: button.element.style } : {}),
      action_ts: `${(Date.now() / 1000).toFixed(6)}`,
    },
  });
}

/** A modal submission. */
export interface SubmitOptions {
  user: string;
  viewId: string;
  /** Input values keyed by action_id or block_id: a string, or string[] for multi-selects/checkboxes. */
  values?: Record<string, string | string[]>;
}

function optionsOf(element: JsonObject): JsonObject[] {
  const groups = Array.isArray(element.option_groups) ? (element.option_groups as JsonObject[]) : [];
  const all = [...(Array.isArray(element.options) ? element.options : []), ...groups.flatMap((g) => (Array.isArray(g.options) ? g.options : []))];
  return all as JsonObject[];
}

function pickOption(element: JsonObject, value: string, where: string): JsonObject {
  const option = optionsOf(element).find((o) => o.value === value);
  if (!option) throw new Error(`fake-slack: ${where} offers no option with value ${JSON.stringify(value)}`);
  return option;
}

/** The `state.values` entry Slack sends for one input element. */
function stateValue(element: JsonObject, value: string | string[] | undefined, where: string): JsonObject {
  const type = String(element.type);
  const one = Array.isArray(value) ? value[0] : value;
  const many = value === undefined ? [] : Array.isArray(value) ? value : [value];
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: one === undefined ? null : pickOption(element, one, where) };
    case 'multi_static_select':
    case 'checkboxes':
      return { type, selected_options: many.map((v) => pickOption(element, v, where)) };
    case 'users_select': return { type, selected_user: one ?? null };
    case 'multi_users_select': return { type, selected_users: many };
    case 'conversations_select': return { type, selected_conversation: one ?? null };
    case 'channels_select': return { type, selected_channel: one ?? null };
    case 'datepicker': return { type, selected_date: one ?? null };
    case 'timepicker': return { type, selected_time: one ?? null };
    default: {
      const max = Number(element.max_length ?? Infinity);
      const min = Number(element.min_length ?? 0);
      if (one !== undefined && (one.length > max || one.length < min)) {
        throw new Error(`fake-slack: ${where} takes ${min}-${max} characters; a user cannot submit ${one.length}`);
      }
      return { type, value: one ?? null };
    }
  }
}

/** Build the view_submission payload, or throw if no user could submit that. */
export function buildSubmission(state: SlackState, o: SubmitOptions): { payload: JsonObject; entry: OpenedView } {
  const entry = state.views.get(o.viewId);
  if (!entry || entry.state !== 'open') throw new Error(`fake-slack: no open view ${o.viewId}`);
  if (entry.user !== o.user) throw new Error(`fake-slack: view ${o.viewId} was opened for ${entry.user}, not ${o.user}`);
  const given = new Map(Object.entries(o.values ?? {}));
  const values: Record<string, Record<string, JsonObject>> = {};
  for (const block of (entry.view.blocks as JsonObject[]).filter((b) => b.type === 'input')) {
    const element = elementsOf(block)[0];
    if (!element) continue;
    const blockId = String(block.block_id);
    const actionId = String(element.action_id);
    const key = given.has(actionId) ? actionId : blockId;
    const value = given.get(key);
    given.delete(key);
    const empty = value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
    if (empty && block.optional !== true) throw new Error(`fake-slack: required input ${blockId}/${actionId} is empty; a user could not submit`);
    values[blockId] = { [actionId]: stateValue(element, empty ? undefined : value, `input ${blockId}/${actionId}`) };
  }
  if (given.size > 0) throw new Error(`fake-slack: view ${o.viewId} has no input for ${[...given.keys()].join(', ')}`);
  const view = { ...structuredClone(entry.view), state: { values } };
  const known = state.users.get(o.user);
  const teamId = state.teamOf(o.user);
  const user = userRef(state.config, o.user, known?.name ?? o.user, teamId);
  const submitter = { teamId, ...(known?.enterpriseId ? { enterpriseId: known.enterpriseId } : {}) };
  return { payload: viewSubmission(state.config, user, view, state.issueTrigger(o.user), submitter), entry };
}

/** Apply the app's ack of a view_submission to the view stack, recording invalid answers. */
export function applyViewAck(state: SlackState, entry: OpenedView, ack: Ack): void {
  const payload = ack.payload;
  const fail = (error: string, messages: string[]): void => {
    state.validationErrors.push({ method: 'ack:view_submission', error, messages, args: payload });
  };
  switch (payload.response_action) {
    case undefined:
      entry.state = 'closed';
      return;
    case 'errors': {
      const invalid = validateViewErrors(entry.view, payload.errors);
      if (invalid) fail(invalid.error, invalid.messages);
      return;
    }
    case 'update':
    case 'push': {
      const invalid = validateModalView(payload.view);
      if (invalid) return fail(invalid.error, invalid.messages);
      if (payload.response_action === 'update') replaceView(state, entry, payload.view as JsonObject);
      else openView(state, payload.view as JsonObject, entry.user, entry);
      return;
    }
    case 'clear':
      closeStack(state, entry.rootViewId);
      return;
    default:
      fail('invalid_arguments', [`[ERROR] unknown response_action: ${String(payload.response_action)} [json-pointer:/response_action]`]);
  }
}
