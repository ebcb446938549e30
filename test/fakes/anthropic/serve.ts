/**
 * Run a {@link FakeAnthropic} as its own process, for tests (or a person) that need it outside
 * the test process:
 *
 *   node --import tsx test/fakes/anthropic/serve.ts script.json [--api-key KEY] [--record requests.json]
 *
 * `script.json` is an array of steps (replies or error steps; functions cannot be written in
 * JSON), or `{ "apiKey": "...", "steps": [...] }`. The fake's base URL is printed on stdout as
 * one line once it listens. On SIGINT/SIGTERM it stops, writes the recorded requests to the
 * `--record` file if given, and exits 0.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FakeAnthropic } from './fake-anthropic.ts';
import type { ErrorStep, ReplyStep } from './script.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'api-key': { type: 'string' }, record: { type: 'string' } },
});
const scriptPath = positionals[0];
if (!scriptPath) {
  process.stderr.write('usage: serve.ts SCRIPT.json [--api-key KEY] [--record FILE]\n');
  process.exit(2);
}

const parsed: unknown = JSON.parse(readFileSync(scriptPath, 'utf8'));
const file: { apiKey?: string; steps?: unknown[] } = Array.isArray(parsed) ? { steps: parsed } : (parsed as { apiKey?: string; steps?: unknown[] });
const steps = (file.steps ?? []) as Array<ReplyStep | ErrorStep>;
const apiKey = values['api-key'] ?? file.apiKey;

const fake = await FakeAnthropic.start(steps, apiKey ? { apiKey } : {});
process.stdout.write(`${fake.url}\n`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await fake.stop();
  if (values.record) writeFileSync(values.record, JSON.stringify(fake.requests, null, 2));
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
