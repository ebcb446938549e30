/**
 * The bare loop as its own process, for the start-up and memory figures:
 *
 *   SLACK_BOT_TOKEN=… SLACK_APP_TOKEN=… SLACK_API_URL=http://…/api/ \
 *   ANTHROPIC_API_KEY=… ANTHROPIC_BASE_URL=http://… node --import tsx bench/baseline/app.ts
 *
 * Runs through tsx like `mithai run` (bin/mithai.js registers tsx too), so both pay the same
 * TypeScript loader. SIGTERM/SIGINT disconnect and exit 0.
 */
import { startBareLoop } from './bare-loop.ts';

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`bench/baseline/app.ts: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const loop = await startBareLoop({
  botToken: need('SLACK_BOT_TOKEN'),
  appToken: need('SLACK_APP_TOKEN'),
  slackApiUrl: need('SLACK_API_URL'),
  anthropicBaseUrl: need('ANTHROPIC_BASE_URL'),
  anthropicApiKey: need('ANTHROPIC_API_KEY'),
  transport: process.env.BENCH_BASELINE_TRANSPORT === 'create' ? 'create' : 'stream',
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  loop.stop().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
