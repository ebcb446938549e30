/**
 * Modal methods: views.open, views.update and views.push. A view is opened by exchanging a
 * trigger_id the fake issued for an interaction (once, within its lifetime); the stored view
 * gets Slack's server-side fields (`id`, `hash`, `root_view_id`, `state`, generated block ids).
 *
 * Not modelled: Home tabs (views.publish), `push_limit_reached` (3-view stack), the 250 kB
 * size cap, `interactivity_pointer`, workflow-step views.
 */
import { randomBytes } from 'node:crypto';
import { apiError } from './web-api.ts';
import type { MethodContext, MethodHandler } from './web-api.ts';
import { bool, str, withGeneratedIds } from './blocks.ts';
import { slackId } from './state.ts';
import type { SlackState } from './state.ts';
import { validateModalView } from './validation.ts';
import type { JsonObject, OpenedView } from './types.ts';

function newHash(): string {
  return `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
}

/**
 * The view object Slack stores and returns for an app-supplied modal: `team_id` is the
 * workspace of the user it was opened for, `app_installed_team_id` the app's.
 */
function materialize(state: SlackState, view: JsonObject, id: string, rootViewId: string, previousViewId: string | null, user: string): JsonObject {
  const { teamId, appId, botId } = state.config;
  return {
    id,
    team_id: state.teamOf(user),
    type: 'modal',
    title: view.title,
    ...(view.submit !== undefined ? { submit: view.submit } : {}),
    ...(view.close !== undefined ? { close: view.close } : {}),
    blocks: withGeneratedIds(view.blocks) ?? [],
    private_metadata: str(view.private_metadata) ?? '',
    callback_id: str(view.callback_id) ?? '',
    external_id: str(view.external_id) ?? '',
    state: { values: {} },
    hash: newHash(),
    clear_on_close: bool(view.clear_on_close),
    notify_on_close: bool(view.notify_on_close),
    root_view_id: rootViewId,
    previous_view_id: previousViewId,
    app_id: appId,
    app_installed_team_id: teamId,
    bot_id: botId,
  };
}

/** Open a new view for `user`; pushes onto `below` when given. Returns the stored entry. */
export function openView(state: SlackState, view: JsonObject, user: string, below?: OpenedView): OpenedView {
  const id = slackId('V');
  const rootViewId = below?.rootViewId ?? id;
  const entry: OpenedView = { id, user, view: materialize(state, view, id, rootViewId, below?.id ?? null, user), state: 'open', rootViewId };
  state.views.set(id, entry);
  return entry;
}

/** Replace the content of an open view in place (new hash, same id and stack position). */
export function replaceView(state: SlackState, entry: OpenedView, view: JsonObject): void {
  entry.view = materialize(state, view, entry.id, entry.rootViewId, (entry.view.previous_view_id as string | null) ?? null, entry.user);
}

/** Close a view and everything stacked on the same root. */
export function closeStack(state: SlackState, rootViewId: string): void {
  for (const entry of state.views.values()) if (entry.rootViewId === rootViewId) entry.state = 'closed';
}

function duplicateExternalId(state: SlackState, view: JsonObject, except?: string): boolean {
  const externalId = str(view.external_id);
  if (!externalId) return false;
  return [...state.views.values()].some((v) => v.id !== except && v.state === 'open' && v.view.external_id === externalId);
}

function checkedView(args: JsonObject): { view: JsonObject } | { rejected: JsonObject } {
  const invalid = validateModalView(args.view);
  if (invalid) return { rejected: apiError(invalid.error, invalid.messages) };
  return { view: args.view as JsonObject };
}

function open({ state, args }: MethodContext): JsonObject {
  const checked = checkedView(args);
  if ('rejected' in checked) return checked.rejected;
  const { view } = checked;
  if (duplicateExternalId(state, view)) return apiError('duplicate_external_id');
  const trigger = state.redeemTrigger(args.trigger_id);
  if ('error' in trigger) return apiError(trigger.error);
  return { ok: true, view: structuredClone(openView(state, view, trigger.user).view) };
}

function push({ state, args }: MethodContext): JsonObject {
  const checked = checkedView(args);
  if ('rejected' in checked) return checked.rejected;
  const { view } = checked;
  const trigger = state.redeemTrigger(args.trigger_id);
  if ('error' in trigger) return apiError(trigger.error);
  const top = [...state.views.values()].filter((v) => v.user === trigger.user && v.state === 'open').at(-1);
  return { ok: true, view: structuredClone(openView(state, view, trigger.user, top).view) };
}

function update({ state, args }: MethodContext): JsonObject {
  const viewId = str(args.view_id);
  const externalId = str(args.external_id);
  if (!viewId && !externalId) return apiError('invalid_arguments', ['[ERROR] must provide `view_id` or `external_id` [json-pointer:/]']);
  const entry = [...state.views.values()].find((v) => (viewId ? v.id === viewId : v.view.external_id === externalId));
  if (!entry || entry.state !== 'open') return apiError('not_found');
  const hash = str(args.hash);
  if (hash && hash !== entry.view.hash) return apiError('hash_conflict');
  const checked = checkedView(args);
  if ('rejected' in checked) return checked.rejected;
  const { view } = checked;
  if (duplicateExternalId(state, view, entry.id)) return apiError('duplicate_external_id');
  replaceView(state, entry, view);
  return { ok: true, view: structuredClone(entry.view) };
}

/** The modal Web API methods. */
export const viewMethods: ReadonlyMap<string, MethodHandler> = new Map<string, MethodHandler>([
  ['views.open', { token: 'bot', handle: open }],
  ['views.push', { token: 'bot', handle: push }],
  ['views.update', { token: 'bot', handle: update }],
]);
