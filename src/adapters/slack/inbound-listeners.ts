/**
 * The Bolt listeners for messages: `app_mention` and `message` events become
 * {@link InboundMessage}s for the dispatcher. Bolt acks Events API envelopes before listeners
 * run; these listeners only normalise the event and hand it over, never awaiting a turn.
 */
import type { App } from '@slack/bolt';
import type { InboundMessage } from './inbound-filters.ts';
import type { TurnDispatcher } from './turn-dispatcher.ts';

/** Register the message listeners on `app`. @param teamId the bot's own team (fallback). */
export function registerInboundListeners(app: App, dispatcher: TurnDispatcher, teamId: string): void {
  app.event('app_mention', async ({ event, body }) => {
    dispatcher.accept(normalise('app_mention', event, body, teamId));
  });
  app.event('message', async ({ event, body }) => {
    dispatcher.accept(normalise('message', event, body, teamId));
  });
}

/**
 * The fields mithai reads from an event. Slack's event types are wide unions; reading them as
 * strings here keeps the rest of the adapter free of them.
 */
export function normalise(kind: InboundMessage['kind'], event: object, body: object, teamId: string): InboundMessage {
  const e = event as Record<string, unknown>;
  const b = body as Record<string, unknown>;
  const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    kind,
    // The team the app is installed in keeps session keys stable in shared channels too.
    team: str(b.team_id) ?? str(e.team) ?? teamId,
    channel: str(e.channel) ?? '',
    ...optional('channelType', str(e.channel_type)),
    ...optional('user', str(e.user)),
    ...optional('botId', str(e.bot_id)),
    ...optional('subtype', str(e.subtype)),
    text: typeof e.text === 'string' ? e.text : '',
    ts: str(e.ts) ?? '',
    ...optional('threadTs', str(e.thread_ts)),
    ...optional('eventId', str(b.event_id)),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
