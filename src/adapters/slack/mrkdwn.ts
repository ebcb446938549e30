/**
 * Slack text formatting: turning the model's Markdown into mrkdwn, and escaping text we did
 * not write (tool input, tool descriptions, deny reasons, error messages) so it can neither
 * forge card text, ping people, nor break out of a code block.
 *
 * Slack parses `&`, `<` and `>` as control characters in every text field, inside code blocks
 * too: `<!channel>`, `<@U…>` and `<https://…|label>` are markup, so untrusted text gets all three
 * escaped. Inside a ``` block, a run of three backticks would close the block early, so backtick
 * runs are broken with zero-width spaces (what the approver reads is unchanged).
 */
import slackifyMarkdown from 'slackify-markdown';

/** A zero-width space: breaks Slack markup without changing what people read. */
const ZWSP = '\u200b';

/** Escape Slack's control characters so `text` is shown literally (no links, mentions, pings). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text that is safe inside a ``` code block: control characters escaped, and no two backticks in
 * a row (so no ``` can end the block and let the rest be read as card text).
 */
export function escapeCodeBlock(text: string): string {
  return escapeMrkdwn(text).replace(/`(?=`)/g, `\`${ZWSP}`);
}

/**
 * One line of text that is safe as plain mrkdwn and inside inline `code`: escaped, newlines
 * folded (a value cannot start a line of its own and pass for card text), and every backtick
 * followed by a zero-width space (a value cannot end its code span).
 */
export function escapeInline(text: string): string {
  return escapeMrkdwn(text).replace(/\r?\n|\r/g, ' ').replace(/`/g, `\`${ZWSP}`);
}

// Shared with the terminal: every place that shows an approval to a person uses it.
export { showInvisible } from '../../security/show-invisible.ts';

/** Remove the zero-width spaces escaping may have added (e.g. from a phrase copied off a card). */
export function stripZeroWidth(text: string): string {
  return text.replace(/\u200b/g, '');
}

/**
 * A date Slack renders in the reader's own time zone, e.g. "Today 14:05", falling back to the
 * ISO time in clients that cannot render it.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/** `<@U…>` for a Slack user id, or the escaped text when it is not one (never a forged mention). */
export function userMention(id: string | null | undefined): string {
  if (!id) return 'someone';
  return /^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : escapeInline(id);
}

/**
 * Broadcast mentions (`<!channel>`, `<!here>`, `<!everyone>`, the legacy `<!group>`, `<!subteam^…>`) turned into plain
 * words. The model's text may carry instructions from untrusted content; it must not be able
 * to page a whole channel or a user group.
 */
export function neutraliseBroadcasts(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!(channel|here|everyone|group)(?:\|[^>]*)?>/gi, (_m, word: string) => `@${word.toLowerCase()}`)
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/gi, (_m, label: string | undefined) => (label ? label.replace(/^@?/, '@') : '@group'));
}

/**
 * The model's Markdown as Slack mrkdwn: headings, bold, italics, links, lists and code blocks
 * converted by slackify-markdown, then broadcast mentions neutralised.
 */
export function markdownToMrkdwn(markdown: string): string {
  // Most replies are plain sentences: nothing for the parser to convert (about half a
  // millisecond per reply saved). The test compares this path with slackify-markdown.
  if (isPlainText(markdown)) return markdown;
  let converted: string;
  try {
    converted = slackifyMarkdown(markdown);
  } catch {
    // A parser failure must not lose the reply: fall back to the escaped text as written.
    converted = escapeMrkdwn(markdown);
  }
  return neutraliseBroadcasts(converted).replace(/\s+$/, '');
}

/**
 * A line that Markdown leaves exactly as written: it starts with a letter, a quote or an opening
 * parenthesis (no list, heading, quote, code or rule marker), and holds only letters, digits,
 * single spaces and punctuation with no Markdown meaning (no `*`, `_`, `` ` ``, `~`, `[`, `#`,
 * `<`, `>`, `&`, `|`, `\\`, `!`), and no trailing space.
 */
const PLAIN_LINE = /^[A-Za-z"'(](?:[A-Za-z0-9,.:;'"?()/%=+-]| (?! ))*(?<! )$/;

/** Text slackify-markdown would return unchanged: plain lines, separated by one line break or one blank line. */
function isPlainText(text: string): boolean {
  if (text.length === 0 || text.length > 2_000) return false;
  return text.split(/\n\n?/).every((line) => PLAIN_LINE.test(line));
}
