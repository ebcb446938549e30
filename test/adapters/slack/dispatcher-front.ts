/**
 * A TurnDispatcher over a real engine, behind the same front `recordBeforeAck` puts before
 * Bolt, with stub Slack calls: `deliver` hands it one app_mention envelope and counts its acks.
 */
import pino from 'pino';
import type { App, SocketModeReceiver } from '@slack/bolt';
import { recordBeforeAck } from '../../../src/adapters/slack/inbound-listeners.ts';
import { TurnDispatcher } from '../../../src/adapters/slack/turn-dispatcher.ts';
import type { Organisation } from '../../../src/adapters/slack/organisation.ts';
import type { SlackAdapter } from '../../../src/adapters/slack/slack-adapter.ts';
import type { SlackPoster } from '../../../src/adapters/slack/slack-poster.ts';
import type { TaskTracker } from '../../../src/adapters/slack/task-tracker.ts';
import { systemClock } from '../../../src/clock.ts';
import type { Engine } from '../../../src/engine/engine.ts';

export interface DispatcherFront {
  dispatcher: TurnDispatcher;
  /** Ephemeral notices posted. */
  ephemerals: string[];
  /** Delivers an app_mention with this event id; resolves once the front is done with it. */
  deliver(eventId: string, text: string): Promise<void>;
  acks(): number;
}

/** What a test may change about the dispatcher behind the front. */
export interface FrontOptions {
  /** Per-user turn rate limit (default 10 a minute). */
  turnsPerMinute?: number;
  /** The organisation check (default: everyone is inside). */
  organisation?: Pick<Organisation, 'user' | 'channel'>;
}

export function dispatcherFront(engine: Engine, options: FrontOptions = {}): DispatcherFront {
  const ephemerals: string[] = [];
  const poster = { ephemeral: async (_c: string, _u: string, text: string) => void ephemerals.push(text), react: () => {}, unreact: () => {} } as unknown as SlackPoster;
  const tracker = { run: (_name: string, work: () => Promise<unknown>) => void work().catch(() => {}) } as unknown as TaskTracker;
  const dispatcher = new TurnDispatcher({
    settings: { botUserId: 'UBOT', botId: 'BBOT', respond: 'mentions', allowedUsers: [], allowedChannels: [], turnsPerMinute: options.turnsPerMinute ?? 10 },
    engine,
    adapter: {} as SlackAdapter,
    poster,
    tracker,
    organisation: (options.organisation ?? { user: async () => ({ isOutside: false, reason: 'test' }), channel: async () => ({ isOutside: false, reason: 'test' }) }) as unknown as Organisation,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    redact: (s) => s,
  });
  let front: App | undefined;
  const receiver = { init: (app: App) => (front = app) } as unknown as SocketModeReceiver;
  const app = { processEvent: async (event: { ack: () => Promise<void> }) => { await event.ack(); } } as unknown as App;
  recordBeforeAck(receiver, app, dispatcher, 'T1', pino({ level: 'silent' }));
  let acks = 0;
  return {
    dispatcher,
    ephemerals,
    acks: () => acks,
    deliver: (eventId, text) => front!.processEvent({
      body: { type: 'event_callback', team_id: 'T1', event_id: eventId, event: { type: 'app_mention', user: 'U1', channel: 'C1', ts: '1700000000.000100', text } },
      ack: async () => void (acks += 1),
    } as unknown as Parameters<App['processEvent']>[0]),
  };
}
