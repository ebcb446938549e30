/**
 * A Turn as stored in the `turns` table and back. Dates become ISO strings; anything that is
 * not a Turn on the way back is refused, so a damaged row never becomes a half-turn.
 */
import { StateError } from '../errors.ts';
import type { Turn } from './types.ts';

/**
 * The JSON text of a turn, with its text and context redacted (`redact`): what a person typed
 * is stored as it is sent to the model, never with a known secret in it.
 */
export function encodeTurn(turn: Turn, redact: (text: string) => string): string {
  return JSON.stringify({
    ...turn,
    text: redact(turn.text),
    ...(turn.context ? { context: turn.context.map(redact) } : {}),
    ...(turn.sentAt ? { sentAt: turn.sentAt.toISOString() } : {}),
  });
}

/** The turn a row holds. @throws StateError when the JSON is not a turn. */
export function decodeTurn(id: string, json: string): Turn {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new StateError(`turn ${id}: its stored turn is not valid JSON`);
  }
  const t = value as Partial<Record<keyof Turn, unknown>> | null;
  const conversation = t?.conversation as Partial<Turn['conversation']> | undefined;
  if (
    !t ||
    typeof t.user !== 'string' ||
    typeof t.text !== 'string' ||
    typeof t.canAskHuman !== 'boolean' ||
    !conversation ||
    (conversation.platform !== 'slack' && conversation.platform !== 'terminal') ||
    typeof conversation.team !== 'string' ||
    typeof conversation.channel !== 'string' ||
    typeof conversation.thread !== 'string'
  ) {
    throw new StateError(`turn ${id}: its stored turn is not a turn (conversation, user, text, canAskHuman expected)`);
  }
  const turn: Turn = {
    conversation: { platform: conversation.platform, team: conversation.team, channel: conversation.channel, thread: conversation.thread },
    user: t.user,
    text: t.text,
    canAskHuman: t.canAskHuman,
  };
  if (typeof t.sentAt === 'string') turn.sentAt = new Date(t.sentAt);
  if (Array.isArray(t.context)) turn.context = t.context.filter((c): c is string => typeof c === 'string');
  if (t.hasUntrustedContext === true) turn.hasUntrustedContext = true;
  if (Array.isArray(t.untrustedSources)) turn.untrustedSources = t.untrustedSources.filter((c): c is string => typeof c === 'string');
  if (typeof t.origin === 'string') turn.origin = t.origin;
  return turn;
}
