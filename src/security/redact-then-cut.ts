/**
 * Redact, then cut: the one way text is shortened on its way out of the runtime (tool results
 * for the model, thread history, approval cards, the terminal).
 *
 * Two rules:
 * - **Redact before the cut.** Cutting first can split a secret so that its first half no
 *   longer matches anything and leaks. Here the cut is taken from redacted text, so a cut can
 *   at most split the `[REDACTED]` marker itself.
 * - **Bounded time.** A tool that prints 40 MB must not hold the event loop while all of it is
 *   redacted only for 16 000 characters to be kept. Only a window is redacted: the characters
 *   to keep plus a margin at least as long as the longest known secret (see
 *   {@link redactionMargin}), so a secret that starts before the cut is inside the window whole.
 *
 * The window's own end is a cut too: the last `margin` characters of the window may hold the
 * start of a secret that continues past it, which redacts to nothing there. Redaction can also
 * shrink text (a 40-character secret becomes `[REDACTED]`), which pulls that uncertain tail
 * forward, so the redacted window is only trusted up to its length minus what that tail can
 * redact to ({@link TAIL_GROWTH} times the margin). When that leaves too little, the window is
 * doubled (a few times at most), and failing that less than `maxChars` is shown. Never more.
 *
 * `redact` may be any function that, like `Redactor.redact`, replaces matches of bounded
 * shapes and at most triples the length of a piece of text. Make hidden characters visible
 * (`showInvisible`) *after* the cut, not inside `redact`: it grows text up to sixfold.
 */
import { redactionMargin } from './redactor.ts';

/** How many times longer redacted text can be than the original: `pwd=x&` (6 characters) becomes `pwd=[REDACTED]&` (15). */
export const TAIL_GROWTH = 3;

/** How many times the window is doubled when redaction shrank it below what is to be shown. */
const MAX_GROWTH_ROUNDS = 4;

/** What {@link redactThenCut} returns. */
export interface RedactedCut {
  /** The redacted text, at most `maxChars` characters (a prefix of the whole text, redacted). */
  text: string;
  /** True when something was left out. */
  isCut: boolean;
  /**
   * How many (redacted) characters were left out: exact when {@link RedactedCut.isExact},
   * otherwise an estimate (the part never redacted is counted as it is).
   */
  omitted: number;
  /** False when only a window of the text was redacted, so {@link RedactedCut.omitted} is an estimate. */
  isExact: boolean;
}

/**
 * The first `maxChars` characters of `redact(text)`, computed from a bounded window of `text`.
 *
 * @param margin - context redacted beyond the cut; default {@link redactionMargin} (the longest
 *   known secret, at least 1024). Only tests should pass it.
 * @example
 * const cut = redactThenCut(output, 16_000, (t) => redactor.redact(t));
 * const text = cut.isCut ? `${cut.text}\n[truncated: ${cut.omitted} more characters]` : cut.text;
 */
export function redactThenCut(text: string, maxChars: number, redact: (text: string) => string, margin = redactionMargin()): RedactedCut {
  const max = Math.max(0, Math.floor(maxChars));
  const tail = TAIL_GROWTH * margin + 16;
  let window = max + margin + tail;
  for (let round = 0; ; round += 1) {
    if (window >= text.length) {
      const whole = redact(text);
      if (whole.length <= max) return { text: whole, isCut: false, omitted: 0, isExact: true };
      return { text: whole.slice(0, max), isCut: true, omitted: whole.length - max, isExact: true };
    }
    const redacted = redact(text.slice(0, window));
    const trusted = redacted.length - tail;
    if (trusted >= max || round >= MAX_GROWTH_ROUNDS) {
      const shown = redacted.slice(0, Math.max(0, Math.min(max, trusted)));
      return { text: shown, isCut: true, omitted: redacted.length - shown.length + (text.length - window), isExact: false };
    }
    window = Math.min(text.length, window * 2);
  }
}
