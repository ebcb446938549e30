/**
 * How much of a request the prompt cache could serve, judged from what the fake Messages API
 * received. The API caches the prefix tools → system → messages up to a block that carries
 * `cache_control`, and a later request reads it when its own prefix up to that block is
 * identical and one of its breakpoints lies at most 20 blocks after it (the API's look-back).
 *
 * For a request after the first of a turn: take the breakpoints of the previous request, find
 * the last one whose prefix this request still repeats exactly (within reach of one of its own
 * breakpoints), and count the characters before it as read from the cache. The share is those
 * characters over the request's whole input. Characters of each block's JSON stand in for
 * tokens (the ratio is what matters, and the fake counts 4 characters a token anyway).
 */
import type { RecordedRequest } from '../../test/fakes/anthropic/wire.ts';

const LOOKBACK_BLOCKS = 20;

interface Linear {
  /** Each block's JSON without cache_control, in cache order. */
  keys: string[];
  chars: number[];
  breakpoints: number[];
}

function strip(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const { cache_control: _ignored, ...rest } = value as Record<string, unknown>;
  return rest;
}

function hasBreakpoint(value: unknown): boolean {
  return !!value && typeof value === 'object' && (value as { cache_control?: unknown }).cache_control != null;
}

/** The request as a sequence of blocks in the order the cache reads them. */
export function linearise(req: RecordedRequest): Linear {
  const keys: string[] = [];
  const chars: number[] = [];
  const breakpoints: number[] = [];
  const add = (key: string, size: number, isBreakpoint: boolean): void => {
    if (isBreakpoint) breakpoints.push(keys.length);
    keys.push(key);
    chars.push(size);
  };
  for (const tool of req.tools) {
    const json = JSON.stringify(strip(tool));
    add(`tool:${json}`, json.length, hasBreakpoint(tool));
  }
  for (const block of req.system) {
    const json = JSON.stringify(strip(block));
    add(`system:${json}`, json.length, hasBreakpoint(block));
  }
  req.messages.forEach((m, i) => {
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    blocks.forEach((b, j) => {
      const json = JSON.stringify(strip(b));
      add(`${i}:${m.role}:${j}:${json}`, json.length, hasBreakpoint(b));
    });
  });
  return { keys, chars, breakpoints };
}

/** Total input characters of a request. */
export function inputChars(req: RecordedRequest): number {
  return linearise(req).chars.reduce((a, b) => a + b, 0);
}

/** Share (0–1) of `req`'s input the cache written by `previous` could serve. */
export function cachedShare(previous: RecordedRequest, req: RecordedRequest): number {
  const before = linearise(previous);
  const now = linearise(req);
  const total = now.chars.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  for (const bp of [...before.breakpoints].sort((a, b) => b - a)) {
    if (bp >= now.keys.length) continue;
    let same = true;
    for (let i = 0; i <= bp && same; i++) same = before.keys[i] === now.keys[i];
    if (!same) continue;
    if (!now.breakpoints.some((own) => own >= bp && own - bp <= LOOKBACK_BLOCKS)) continue;
    const cached = now.chars.slice(0, bp + 1).reduce((a, b) => a + b, 0);
    return cached / total;
  }
  return 0;
}

/** What the requests of many turns say about caching. */
export interface CacheReport {
  turns: number;
  /** Input characters of each turn's first request. */
  firstRequestChars: number[];
  /** Cached share of every request after the first of its turn. */
  laterShares: number[];
}

/**
 * Group requests into turns (requests of one turn share their first message: each turn is a new
 * thread) and compute the figures.
 */
export function cacheReport(requests: readonly RecordedRequest[]): CacheReport {
  const turns = new Map<string, RecordedRequest[]>();
  for (const req of requests) {
    if (req.stepIndex === undefined) continue;
    const first = req.messages[0];
    const key = JSON.stringify(first ? strip(typeof first.content === 'string' ? first.content : first.content.map(strip)) : '');
    const list = turns.get(key) ?? [];
    list.push(req);
    turns.set(key, list);
  }
  const firstRequestChars: number[] = [];
  const laterShares: number[] = [];
  for (const list of turns.values()) {
    firstRequestChars.push(inputChars(list[0]!));
    for (let i = 1; i < list.length; i++) laterShares.push(cachedShare(list[i - 1]!, list[i]!));
  }
  return { turns: turns.size, firstRequestChars, laterShares };
}
