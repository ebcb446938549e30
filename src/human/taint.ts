/**
 * Sources of untrusted content ({@link TaintSource}): made safe to store and show, merged
 * without repeats, and put in plain words for the terminal, the CLI and refusal messages.
 *
 * A source is an id or a tool name, never message text. It still ends up on cards, in the
 * audit log and in the terminal, so it is redacted, reduced to a small set of characters (no
 * markup, no newlines, no invisible characters can survive) and clipped.
 */
import type { TaintKind, TaintSource } from './types.ts';

/** At most this many distinct sources are kept per session (and per approval). */
export const MAX_TAINT_SOURCES = 20;
/** Longest source kept. */
export const MAX_TAINT_SOURCE_CHARS = 80;

/** What a session tainted before sources were recorded (or with a lost source) shows. */
export const UNRECORDED_TAINT: TaintSource = { kind: 'unrecorded', source: '' };

/** The kinds, for checking stored values. */
export const TAINT_KINDS: ReadonlySet<string> = new Set<TaintKind>(['tool_output', 'tool_error', 'thread_message', 'unrecorded']);

/**
 * A source as stored: redacted, every character outside `A-Z a-z 0-9 _ . : @ ( ) -` and space
 * replaced by `?`, and clipped to {@link MAX_TAINT_SOURCE_CHARS}.
 */
export function taintSource(kind: TaintKind, source: string, redact: (text: string) => string = (t) => t): TaintSource {
  const cleaned = redact(source).replace(/[^A-Za-z0-9_.:@() -]/g, '?').replace(/\s+/g, ' ').trim();
  return { kind, source: cleaned.length <= MAX_TAINT_SOURCE_CHARS ? cleaned : `${cleaned.slice(0, MAX_TAINT_SOURCE_CHARS - 3)}...` };
}

/** `base` followed by the sources of `more` it does not have yet, at most {@link MAX_TAINT_SOURCES}. */
export function mergeTaint(base: readonly TaintSource[], more: readonly TaintSource[]): TaintSource[] {
  const out: TaintSource[] = [];
  const seen = new Set<string>();
  for (const source of [...base, ...more]) {
    const key = `${source.kind}\u0000${source.source}`;
    if (seen.has(key) || out.length >= MAX_TAINT_SOURCES) continue;
    seen.add(key);
    out.push(source);
  }
  return out;
}

/** One source in plain words, e.g. "output of http__http_get", "a message from U999". */
export function describeTaintSource(source: TaintSource): string {
  switch (source.kind) {
    case 'tool_output':
      return `output of ${source.source || 'a tool'}`;
    case 'tool_error':
      return `an error message from ${source.source || 'a tool'}`;
    case 'thread_message':
      return `a message from ${threadSender(source.source)}`;
    case 'unrecorded':
      return 'untrusted content (source not recorded)';
  }
}

/** Every source in plain words, separated by "; " (empty for no taint). */
export function describeTaint(taint: readonly TaintSource[]): string {
  return taint.map(describeTaintSource).join('; ');
}

/** Who sent a thread message, from its stored source (`U999`, `B123 (bot)`, `unknown sender`, or empty). */
export function threadSender(source: string): string {
  if (source === '' || source === 'unknown sender') return 'an unknown sender';
  const bot = /^(.*) \(bot\)$/.exec(source);
  return bot ? `the bot ${bot[1]}` : source;
}

/**
 * The sources of untrusted thread context: one `thread_message` source per sender the adapter
 * named (cleaned, first {@link MAX_TAINT_SOURCES}), or one with an unknown sender when it
 * named none.
 */
export function threadTaint(senders: readonly string[], redact: (text: string) => string): TaintSource[] {
  const sources = mergeTaint([], senders.map((sender) => taintSource('thread_message', sender, redact)));
  return sources.length > 0 ? sources : [{ kind: 'thread_message', source: '' }];
}
