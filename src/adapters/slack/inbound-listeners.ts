/**
 * Messages in, recorded before they are acknowledged. Bolt acks an Events API envelope
 * *before* any middleware or listener runs, so a listener is too late to make "acknowledged"
 * mean "recorded". The receiver is therefore pointed at a thin front of the app: for
 * `app_mention` and `message` events it hands the normalised message to the dispatcher, waits
 * until it has recorded the turn (or dropped the message; the organisation check it may ask
 * Slack for is bounded well inside Slack's 3 s), and only then lets Bolt process (and ack) the
 * envelope. When the record cannot be written, the envelope is not acknowledged and Slack
 * delivers it again.
 */
import type { App, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.ts';
import { faultPoint } from '../../fault-point.ts';
import type { InboundMessage } from './inbound-filters.ts';
import type { TurnDispatcher } from './turn-dispatcher.ts';

/** Bolt's receiver event: the envelope body and its ack. */
type ReceiverEvent = Parameters<App['processEvent']>[0];

/**
 * Put the dispatcher in front of `app` on `receiver`.
 * @param teamId the bot's own team (fallback when an event carries none).
 */
export function recordBeforeAck(receiver: SocketModeReceiver, app: App, dispatcher: TurnDispatcher, teamId: string, logger: Logger, sharing?: ChannelSharing): void {
  const front = {
    processEvent: async (event: ReceiverEvent): Promise<void> => {
      const body = event.body as Record<string, unknown>;
      const inner = body.type === 'event_callback' ? (body.event as Record<string, unknown> | undefined) : undefined;
      // A channel shared (or unshared) with another organisation: known before the ack, so no
      // post after it goes out on an old "not shared" answer.
      if ((inner?.type === 'channel_shared' || inner?.type === 'channel_unshared') && typeof inner.channel === 'string') {
        sharing?.changed(inner.channel, inner.type === 'channel_shared' || inner.is_ext_shared === true);
        logger.info({ channel: inner.channel, event: inner.type }, 'slack.channel_sharing_changed');
      }
      const kind = inner?.type === 'app_mention' || inner?.type === 'message' ? inner.type : undefined;
      if (inner !== undefined && kind !== undefined) {
        try {
          await dispatcher.accept(normalise(kind, inner, body, teamId));
        } catch (err) {
          // Not acknowledged: Slack redelivers it, and nothing was half-recorded.
          logger.error({ err: errorMessage(err), event_id: body.event_id }, 'slack.event_not_recorded');
          return;
        }
      }
      await app.processEvent(event);
      if (kind !== undefined) faultPoint('event.acked');
    },
  };
  receiver.init(front as unknown as App);
}

/** Told when Slack says a channel's sharing with other organisations changed. */
export interface ChannelSharing {
  changed(channel: string, isShared: boolean): void;
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
    // In a channel shared with another organisation only `user_team` names the sender's home
    // team; without it, users.info decides (`team` there may be the workspace the event is for).
    ...optional('userTeam', str(e.user_team) ?? (b.is_ext_shared_channel === true ? undefined : str(e.team))),
    ...(b.is_ext_shared_channel === true ? { isExtSharedChannel: true } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
