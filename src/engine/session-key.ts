/**
 * Session keys name a conversation by its full identity (platform, team, channel, thread), so two
 * channels that share a thread ts never share history. Keys are opaque database keys: each part
 * is percent-encoded, so a key can never name a path or smuggle a separator.
 */
import type { ConversationRef } from './types.ts';

/** Build the session key of a conversation. */
export function sessionKey(ref: ConversationRef): string {
  return [ref.platform, ref.team, ref.channel, ref.thread].map((p) => encodeURIComponent(p)).join(':');
}
