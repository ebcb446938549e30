/**
 * The approval card: one Slack message per gated call, rendered from the approval row alone, so
 * the same function draws it when it is posted, after every state change, and after a restart.
 *
 * Everything that did not come from mithai itself (tool input, description, confirm phrase,
 * deny reason, error text) is redacted first and then escaped: redacting after escaping could
 * miss a secret the escaping changed, and truncating before redacting could cut a secret in two
 * and leak its first half. Control, format and bidi characters are then shown as `\uXXXX`
 * escapes (showInvisible), so hidden or reordered text cannot make a call look like another
 * one. Button values carry only the approval id; the server looks up
 * everything else, so a forged value can at most name another approval.
 *
 * A call made in a conversation that took in untrusted content (the approval's `taint`) gets a
 * warning right under its title naming what and from where — tool names in code, senders as
 * mentions — because that content may be what asked for the call; the final card keeps a
 * compact version.
 */
import type { Approval, LevelReason, TaintSource } from '../../human/types.ts';
import { escapeCodeBlock, escapeInline, escapeMrkdwn, showInvisible, slackDate, userMention } from './mrkdwn.ts';
import { redactThenCut } from '../../security/redact-then-cut.ts';
import { splitMrkdwn } from './reply-chunks.ts';

/** A Block Kit block as sent to Slack (plain JSON). */
export interface SlackBlock {
  type: string;
  block_id?: string;
  [key: string]: unknown;
}

/** A message body: fallback text (notifications, screen readers) and blocks. */
export interface CardMessage {
  text: string;
  blocks: SlackBlock[];
}

/** action_ids of the card's buttons. */
export const ACTIONS = {
  approve: 'mithai_approve',
  deny: 'mithai_deny',
  confirm: 'mithai_confirm',
  showInput: 'mithai_show_input',
} as const;

/** Slack's limit for a section's text. */
export const SECTION_MAX = 3000;
/** Longest tool description shown on a card. */
const DESCRIPTION_MAX = 500;
/** Longest outcome / reason text shown on a card. */
const DETAIL_MAX = 300;
/** Taint sources named on a card; any more are counted. */
const TAINT_SHOWN = 10;

/** Why a call has its level, in words for the approver. */
export const LEVEL_REASON_WORDS: Readonly<Record<LevelReason, string>> = {
  declared: 'the tool declares this level',
  default: 'the tool declares no level, so it needs approval by default',
  override: 'raised by human.overrides in config.yaml',
  dynamic: "the skill's resolveHuman chose this level for this input",
  taint: 'untrusted content entered this conversation, so changes need approval',
  fail_closed: "the skill's resolveHuman failed, so mithai fell back to approval (fail closed)",
};

/** The card for an approval in its current state: buttons while pending, none once decided. */
export function renderCard(approval: Approval, redactText: (text: string) => string): CardMessage {
  const redact = shown(redactText);
  const isPending = approval.state === 'pending';
  const tool = escapeInline(redact(approval.tool));
  const title = approval.level === 'confirm' ? 'Confirmation needed' : 'Approval needed';
  const blocks: SlackBlock[] = [
    section('mithai_status', isPending ? `:lock: *${title}:* \`${tool}\`` : `${statusLine(approval, redact)}\n\`${tool}\``),
  ];
  const warning = taintWarning(approval, redactText);
  if (warning !== undefined) blocks.push(section('mithai_taint', warning));
  blocks.push(
    section('mithai_tool', [
      `_${escapeMrkdwn(clip(redact(approval.toolDescription).replace(/\s+/g, ' '), DESCRIPTION_MAX)) || 'No description.'}_`,
      `*Requested by* ${userMention(approval.requester)}`,
      `*Level* ${approval.level}: ${LEVEL_REASON_WORDS[approval.levelReason]}`,
      ...(isPending ? [`*Decide by* ${slackDate(approval.deadline)}`] : []),
    ].join('\n')),
  );
  const input = renderInput(approval.inputJson, redact);
  blocks.push(section('mithai_input', input.text));
  if (isPending) {
    if (approval.level === 'confirm') {
      const phrase = escapeInline(redact(approval.confirmPhrase ?? ''));
      blocks.push(section('mithai_phrase', `To run it, click *Confirm…* and type \`${phrase}\` exactly.`));
    }
    blocks.push({ type: 'actions', block_id: 'mithai_actions', elements: buttons(approval, input.isTruncated) });
  }
  const tainted = approval.taint.length > 0 ? ' — untrusted content is in this conversation' : '';
  const text = isPending
    ? `${title}: ${tool} (requested by ${userMention(approval.requester)})${tainted}`
    : `${tool}: ${statusLine(approval, redact)}`;
  return { text, blocks };
}

/**
 * The warning about untrusted content in the approval's conversation, or undefined when there
 * was none: in full while the call can still be decided, compact once it is settled.
 */
export function taintWarning(approval: Approval, redactText: (text: string) => string): string | undefined {
  if (approval.taint.length === 0) return undefined;
  const redact = shown(redactText);
  const named = approval.taint.slice(0, TAINT_SHOWN).map((source) => taintSourceText(source, redact));
  const more = approval.taint.length - named.length;
  const list = `${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  if (approval.state !== 'pending') return `:warning: Untrusted content was in this conversation: ${list}.`;
  return `:warning: *Untrusted content is in this conversation* — ${list}. It may have asked for this call: check the input before approving.`;
}

/** One source in mrkdwn: tool names in code, Slack users as mentions, everything escaped. */
function taintSourceText(source: TaintSource, redact: (text: string) => string): string {
  const code = (text: string): string => `\`${escapeInline(redact(text)) || '?'}\``;
  switch (source.kind) {
    case 'tool_output':
      return `output of ${code(source.source)}`;
    case 'tool_error':
      return `an error message from ${code(source.source)}`;
    case 'thread_message': {
      if (source.source === '' || source.source === 'unknown sender') return 'a message from an unknown sender';
      const bot = /^(.*) \(bot\)$/.exec(source.source);
      return bot ? `a message from the bot ${code(bot[1] ?? '')}` : `a message from ${userMention(redact(source.source))}`;
    }
    case 'unrecorded':
      return 'untrusted content (source not recorded)';
  }
}

/**
 * Where a decision came from, in words for the card; nothing for Slack (the card is in Slack)
 * and for the system (it decides no call by itself: expiry and cancellation have their own words).
 */
export const DECIDED_VIA_WORDS: Readonly<Record<string, string>> = {
  slack: '',
  system: '',
  cli: 'from the command line',
  terminal: 'from the terminal',
};

/**
 * Who decided, for a card line: a Slack user id as a mention, anything else (an operator at a
 * terminal such as `local:alice`) as escaped plain text, so it can neither ping nor pass for a
 * Slack user.
 */
export function deciderText(decider: string | null): string {
  if (decider !== null && /^[UW][A-Z0-9]{2,}$/.test(decider)) return userMention(decider);
  return decider ? escapeInline(decider) : 'someone';
}

/** One line saying where the approval stands, with who and when (and from where, off Slack). */
export function statusLine(a: Approval, redactText: (text: string) => string): string {
  const redact = shown(redactText);
  const detail = (text: string | null): string => escapeInline(redactClip(text ?? '', DETAIL_MAX, redactText));
  const via = viaWords(a.decidedVia, redact);
  const by = `${deciderText(a.decider === null ? null : redact(a.decider))}${via ? ` (${via})` : ''}`;
  const at = a.decidedAt ? ` at ${slackDate(a.decidedAt)}` : '';
  // A confirm call was confirmed (the phrase typed), not just approved: the card says so.
  const approved = a.level === 'confirm' ? 'Confirmed' : 'Approved';
  switch (a.state) {
    case 'pending':
      return `:hourglass_flowing_sand: Waiting for a decision until ${slackDate(a.deadline)}`;
    case 'approved':
      // Approved but not started yet (e.g. waiting for the turn to resume after a restart):
      // the reason says what it waits for, so nobody clicks around or re-asks in the meantime.
      return a.reason
        ? `:arrow_forward: ${approved} by ${by}${at} — waiting to run: ${detail(a.reason)}`
        : `:arrow_forward: ${approved} by ${by}${at} — running…`;
    case 'executing':
      return `:arrow_forward: ${approved} by ${by}${at} — running…`;
    case 'succeeded':
      return `:white_check_mark: ${approved} by ${by}${at} — succeeded`;
    case 'failed':
      return `:x: ${approved} by ${by}${at} — failed: ${detail(a.outcome) || 'unknown error'}`;
    case 'denied':
      return `:no_entry: Denied by ${by}${at} (${a.reason ? detail(a.reason) : 'no reason given'}), not run`;
    case 'expired':
      return `:alarm_clock: Expired at ${slackDate(a.decidedAt ?? a.deadline)}, not run`;
    case 'cancelled':
      return `:octagonal_sign: Cancelled (${a.reason ? detail(a.reason) : 'no reason given'}), not run`;
    case 'unknown':
      // Either the process died while the call ran (boot reconciliation), or the call was
      // abandoned while its handler may still run (time limit): say which, never re-run it,
      // and tell people to look at the system before asking for it again.
      if (a.outcome === null || /runtime (stopped|restarted)/.test(a.outcome)) {
        return ':warning: Outcome unknown — check before retrying (the runtime restarted while it ran); it will not be re-run';
      }
      return `:warning: ${approved} by ${by}${at} — Outcome unknown — check before retrying (${detail(a.outcome)}); it will not be re-run`;
  }
}

/** Words for `decidedVia`; an unknown source is named as it is (escaped), never dropped. */
function viaWords(decidedVia: string | null, redact: (text: string) => string): string {
  if (!decidedVia) return '';
  if (Object.hasOwn(DECIDED_VIA_WORDS, decidedVia)) return DECIDED_VIA_WORDS[decidedVia] ?? '';
  return `via ${escapeInline(redact(decidedVia))}`;
}

/**
 * The whole (redacted) input as ephemeral messages for one person, each within Slack's limits.
 * Used by the "Show full input" button when the card had to truncate it.
 */
export function fullInputMessages(approval: Approval, redactText: (text: string) => string): string[] {
  const redact = shown(redactText);
  const body = escapeCodeBlock(redact(prettyInput(approval.inputJson)));
  return splitMrkdwn(`Full input of \`${escapeInline(redact(approval.tool))}\`:\n\`\`\`\n${body}\n\`\`\``);
}

/** Redaction, then invisible characters made visible (idempotent, so applying it twice is harmless). */
export function shown(redact: (text: string) => string): (text: string) => string {
  return (text) => showInvisible(redact(text));
}

function buttons(approval: Approval, isInputTruncated: boolean): SlackBlock[] {
  const button = (action: string, label: string, style?: 'primary' | 'danger'): SlackBlock => ({
    type: 'button',
    action_id: action,
    text: { type: 'plain_text', text: label },
    value: approval.id,
    ...(style ? { style } : {}),
  });
  const list = approval.level === 'confirm'
    ? [button(ACTIONS.confirm, 'Confirm…', 'primary'), button(ACTIONS.deny, 'Deny', 'danger')]
    : [button(ACTIONS.approve, 'Approve', 'primary'), button(ACTIONS.deny, 'Deny', 'danger')];
  if (isInputTruncated) list.push(button(ACTIONS.showInput, 'Show full input'));
  return list;
}

/** The input as the card shows it (one section, long fields cut): also shown in the confirm modal. */
export function inputSection(approval: Approval, redactText: (text: string) => string): string {
  return renderInput(approval.inputJson, shown(redactText)).text;
}

/**
 * The input as a code block that fits one section. When it does not fit, each top-level field
 * gets its own line and long values are cut one by one, so one long field never pushes the
 * others (`"namespace": "prod"`) off the card ({@link renderFields}); failing that (too many
 * fields), the longest prefix that fits is shown (cut at a line end when one is near), with a
 * note saying how much is missing.
 */
function renderInput(inputJson: string, redact: (text: string) => string): { text: string; isTruncated: boolean } {
  const full = redact(prettyInput(inputJson));
  const wrap = (body: string, note = ''): string => `*Input*\n\`\`\`\n${body}\n\`\`\`${note}`;
  const whole = wrap(escapeCodeBlock(full));
  if (whole.length <= SECTION_MAX) return { text: whole, isTruncated: false };
  const fields = renderFields(inputJson, redact);
  if (fields !== undefined) return { text: fields, isTruncated: true };
  const note = (shown: number): string => `\n_Input truncated: ${shown} of ${full.length} characters shown. Use *Show full input* to see all of it._`;
  const budget = SECTION_MAX - wrap('', note(full.length)).length;
  // Escaping only ever lengthens text, so the longest fitting prefix is found by bisection.
  let low = 0;
  let high = Math.min(full.length, budget);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (escapeCodeBlock(full.slice(0, mid)).length <= budget) low = mid;
    else high = mid - 1;
  }
  const lineEnd = full.lastIndexOf('\n', low);
  const shown = lineEnd > low / 2 ? lineEnd : low;
  return { text: wrap(escapeCodeBlock(full.slice(0, shown)), note(shown)), isTruncated: true };
}

/** Characters of a field's value kept at least, however many fields there are. */
const FIELD_MIN_CHARS = 40;

/**
 * One line per top-level field (`"key": value`), each value cut to its share of the section,
 * and a note naming the fields that were cut. Redacted before any cut. Undefined when the input
 * is not an object, or its fields do not fit even when cut.
 */
function renderFields(inputJson: string, redact: (text: string) => string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(inputJson);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).map(([key, field]) => ({ key: redact(JSON.stringify(key)), value: redact(JSON.stringify(field) ?? 'null') }));
  if (entries.length === 0) return undefined;
  const cutNote = (names: readonly string[]): string =>
    names.length === 0 ? '' : `\n_Cut: ${names.map((n) => `\`${escapeInline(n)}\``).join(', ')}. Use *Show full input* to see all of it._`;
  const frame = `*Input* (one line per field)\n\`\`\`\n\n\`\`\``;
  const allNames = entries.map((e) => e.key.replace(/^"|"$/g, ''));
  const fixed = frame.length + cutNote(allNames).length + entries.reduce((n, e) => n + escapeCodeBlock(e.key).length + 3, 0);
  const share = Math.floor((SECTION_MAX - fixed) / entries.length);
  if (share < FIELD_MIN_CHARS) return undefined;
  const cut: string[] = [];
  const lines = entries.map((e, i) => {
    const text = escapeCodeBlock(e.value);
    if (text.length <= share) return `${escapeCodeBlock(e.key)}: ${text}`;
    cut.push(allNames[i]!);
    // Escaping only lengthens text: the longest prefix of the (redacted) value that fits.
    let keep = Math.min(e.value.length, share - 1);
    while (keep > 0 && escapeCodeBlock(e.value.slice(0, keep)).length > share - 1) keep -= Math.max(1, Math.ceil((escapeCodeBlock(e.value.slice(0, keep)).length - share + 1) / 2));
    return `${escapeCodeBlock(e.key)}: ${escapeCodeBlock(e.value.slice(0, keep))}…`;
  });
  const text = `*Input* (one line per field)\n\`\`\`\n${lines.join('\n')}\n\`\`\`${cutNote(cut)}`;
  return text.length <= SECTION_MAX ? text : undefined;
}

function prettyInput(inputJson: string): string {
  try {
    return JSON.stringify(JSON.parse(inputJson), null, 2);
  } catch {
    return inputJson;
  }
}

function section(blockId: string, text: string): SlackBlock {
  return { type: 'section', block_id: blockId, text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } };
}

/**
 * `clip(shown(redactText)(text), max)`, with redaction bounded to what can be shown: redacted
 * (a window of it, see redactThenCut) before the cut, made visible after it, so neither a huge
 * error text nor a cut through a secret can get past it.
 */
export function redactClip(text: string, max: number, redactText: (text: string) => string): string {
  const cut = redactThenCut(text, max, redactText);
  const visible = showInvisible(cut.text);
  return cut.isCut ? `${visible.slice(0, Math.max(0, max - 1))}…` : clip(visible, max);
}

/** Cut `text` to `max` characters, ending with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
