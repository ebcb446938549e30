/**
 * Where an approval card lives and how Slack's answers about it are read: the card reference
 * stored on the approval row, the message metadata that lets a card be found again, and which
 * Web API failures are worth trying again (and which may have stored the message anyway).
 */
import type { MessageMetadata } from './slack-poster.ts';

/** The `event_type` of an approval card's message metadata. */
export const CARD_EVENT_TYPE = 'mithai_approval';

/** Where an approval card was posted; stored as JSON in `approvals.display_ref`. */
export interface CardRef {
  channel: string;
  ts: string;
}

/** Platform errors that mean "Slack had a bad moment", not "Slack refuses this": tried again. */
const TRANSIENT_PLATFORM_ERRORS: ReadonlySet<string> = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);
/** What a failed Web API call means for trying it again. */
export type FailureKind = 'transient' | 'rate_limited' | 'refused';

/** The metadata every approval card carries, so it can be found again. */
export function cardMetadata(approvalId: string): MessageMetadata {
  return { event_type: CARD_EVENT_TYPE, event_payload: { approval_id: approvalId } };
}

/**
 * What a failed Web API call means: `rate_limited` (429, wait its Retry-After), `transient`
 * (Slack's bad moments: internal_error, fatal_error, service_unavailable, request_timeout, HTTP
 * 5xx, timeouts and connection errors) or `refused` (Slack said no: message_not_found,
 * cant_update_message, invalid_blocks, … and anything that is not a Slack client error).
 */
export function failureKind(err: unknown): FailureKind {
  const e = err as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown } | undefined;
  switch (e?.code) {
    case 'slack_webapi_rate_limited_error':
      return 'rate_limited';
    case 'slack_webapi_platform_error':
      return typeof e.data?.error === 'string' && TRANSIENT_PLATFORM_ERRORS.has(e.data.error) ? 'transient' : 'refused';
    case 'slack_webapi_http_error':
      return typeof e.statusCode === 'number' && (e.statusCode >= 500 || e.statusCode === 408) ? 'transient' : 'refused';
    case 'slack_webapi_request_error':
      return 'transient';
    default:
      return 'refused';
  }
}

/**
 * Whether a failed post may still have reached Slack: a request or HTTP error (timeout, reset,
 * 5xx from a proxy after Slack stored it) or one of Slack's own bad moments. A refusal or a 429
 * proves nothing was stored.
 */
export function isAmbiguous(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error') return true;
  return code === 'slack_webapi_platform_error' && failureKind(err) === 'transient';
}

/** Read a stored card reference; undefined for anything that is not one. */
export function parseRef(displayRef: string | null): CardRef | undefined {
  if (!displayRef) return undefined;
  try {
    const value: unknown = JSON.parse(displayRef);
    if (value && typeof value === 'object') {
      const { channel, ts } = value as Record<string, unknown>;
      if (typeof channel === 'string' && typeof ts === 'string' && channel !== '' && ts !== '') return { channel, ts };
    }
  } catch {
    // Not ours (another adapter's reference, or damaged): treat it as no card.
  }
  return undefined;
}
