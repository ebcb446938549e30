/**
 * Where the start of a turn goes: for each system, when the turn's first `messages.stream()`
 * call is made and when its request reaches the fake Messages API, in ms after the mention was
 * sent (medians of 40 sequential turns after 15 thrown away). Not part of `npm run bench`; a
 * probe for the turn figure (see bench/README.md).
 *
 *   node --import tsx bench/start-gap.ts
 */
import http from 'node:http';
import { Messages } from '@anthropic-ai/sdk/resources/messages';
import { autoTurn } from './figures/turn.ts';
import { median, sleep } from './lib/stats.ts';
import { inProcessBaseline, inProcessMithai } from './systems/in-process.ts';
import { withSystem } from './systems/types.ts';

let streamCalls: number[] = [];
let arrivals: number[] = [];

const stream = Messages.prototype.stream;
Messages.prototype.stream = function (this: Messages, ...args: Parameters<Messages['stream']>) {
  streamCalls.push(performance.now());
  return stream.apply(this, args);
} as Messages['stream'];
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]): boolean {
  if (event === 'request' && String((args[0] as http.IncomingMessage).url).includes('/v1/messages')) arrivals.push(performance.now());
  return (emit as (this: http.Server, event: string, ...rest: unknown[]) => boolean).call(this, event, ...args);
} as typeof emit;

for (const system of [inProcessBaseline(), inProcessMithai(), inProcessBaseline(), inProcessMithai()]) {
  const firstCall: number[] = [];
  const firstArrival: number[] = [];
  await withSystem(system, async (_running, fakes) => {
    for (let i = 0; i < 55; i++) {
      streamCalls = [];
      arrivals = [];
      const sent = performance.now();
      await autoTurn(fakes, `svc-${i}`);
      if (i >= 15 && streamCalls[0] !== undefined && arrivals[0] !== undefined) {
        firstCall.push(streamCalls[0] - sent);
        firstArrival.push(arrivals[0] - sent);
      }
      await sleep(25);
    }
  });
  process.stdout.write(`${system.name.padEnd(8)} first stream() call ${median(firstCall).toFixed(2)} ms, its request at the fake ${median(firstArrival).toFixed(2)} ms\n`);
}
