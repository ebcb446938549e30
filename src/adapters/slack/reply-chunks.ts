/**
 * Splitting long mrkdwn into messages Slack accepts, without breaking code blocks.
 *
 * Slack truncates message text past 40,000 characters and shows long messages badly; we keep
 * each message under {@link MAX_MESSAGE_CHARS}. Splits fall on line ends where possible. When a
 * split has to happen inside a ``` block, the chunk closes the block and the next chunk reopens
 * it, so every chunk renders on its own and no code is shown as prose (or prose as code).
 */

/** Characters per message we aim for (Slack's readable limit is about 4,000). */
export const MAX_MESSAGE_CHARS = 3900;

const FENCE = '```';

/**
 * Split `mrkdwn` into chunks of at most `limit` characters, each with balanced ``` fences.
 *
 * @param mrkdwn Text already converted to Slack mrkdwn.
 * @param limit Maximum characters per chunk (at least 16).
 * @returns The chunks, in order; empty when the text is blank.
 */
export function splitMrkdwn(mrkdwn: string, limit: number = MAX_MESSAGE_CHARS): string[] {
  if (limit < 16) throw new RangeError(`splitMrkdwn: limit must be at least 16, got ${limit}`);
  // Room for a reopening "```\n" at the start and a closing "\n```" at the end of any chunk.
  const budget = limit - 2 * (FENCE.length + 1);
  const chunks: string[] = [];
  let lines: string[] = [];
  let size = 0;
  let inFence = false;
  let startsInFence = false;

  const flush = (): void => {
    const body = lines.join('\n');
    if (body.trim() !== '') {
      const opened = startsInFence ? `${FENCE}\n${body}` : body;
      chunks.push(inFence ? `${opened}\n${FENCE}` : opened.replace(/\s+$/, ''));
    }
    lines = [];
    size = 0;
    startsInFence = inFence;
  };

  for (const line of mrkdwn.split('\n')) {
    for (const piece of hardSplit(line, budget)) {
      const added = piece.length + (lines.length > 0 ? 1 : 0);
      if (size + added > budget && lines.length > 0) flush();
      lines.push(piece);
      size += piece.length + (lines.length > 1 ? 1 : 0);
      // An odd number of ``` on a line opens or closes a block (Slack allows them mid-line).
      if (countFences(piece) % 2 === 1) inFence = !inFence;
    }
  }
  if (inFence) {
    // An unclosed block in the source: close it so the last chunk renders as code, not prose.
    lines.push(FENCE);
    inFence = false;
  }
  flush();
  return chunks;
}

function countFences(line: string): number {
  return line.split(FENCE).length - 1;
}

/**
 * A line longer than `max`, cut into pieces of at most `max`: at the last space when there is
 * one in the second half, otherwise hard. Never cuts a ``` or an `&amp;`-style entity in two.
 */
function hardSplit(line: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    cut = safeCut(rest, cut);
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}

/** Move a cut point left so it does not fall inside "```" or an entity such as "&amp;". */
function safeCut(text: string, cut: number): number {
  let at = cut;
  const fence = text.lastIndexOf(FENCE, at - 1);
  if (fence >= 0 && fence + FENCE.length > at) at = fence;
  const amp = text.lastIndexOf('&', at - 1);
  if (amp >= 0 && at - amp <= 6 && !text.slice(amp, at).includes(';')) at = amp;
  return at > 0 ? at : cut;
}
