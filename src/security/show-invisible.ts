/**
 * Making hidden characters visible in text shown to an approver (Slack cards, the terminal).
 */

/** Control, format (zero-width, bidi overrides and isolates, tags, …) characters, except \n and \t. */
const INVISIBLE = /(?![\n\t])[\p{Cc}\p{Cf}]/gu;

/**
 * Text we did not write, with every control and format character (bidi overrides such as
 * U+202E, zero-width characters, …) shown as a visible `\uXXXX` escape, so what an approver
 * reads is what will run: no reordered or hidden text. Newlines and tabs are kept. Apply before
 * any escaping for the display (Slack's mrkdwn escapes add zero-width spaces of their own).
 */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    const hex = code.toString(16).toUpperCase();
    return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
}
