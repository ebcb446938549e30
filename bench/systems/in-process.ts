/**
 * Both systems started in the bench process, for the turn, approval and concurrency figures.
 *
 * mithai: a fresh project (./mithai-project.ts) and `startSlackService`, the same function
 * `mithai run` calls, with production defaults except: logs go to a sink that drops them (pino
 * still formats and redacts every line), and the per-user turn rate limit (10 a minute) is
 * lifted, because the bench sends hundreds of turns from a few users.
 * baseline: `startBareLoop` (../baseline/bare-loop.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FAKE_API_KEY } from '../../test/fakes/anthropic/fake-anthropic.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startSlackService } from '../../src/adapters/slack/slack-service.ts';
import { ACTIONS } from '../../src/adapters/slack/approval-card.ts';
import { BARE_APPROVE_ACTION, startBareLoop } from '../baseline/bare-loop.ts';
import { hasButton } from '../lib/slack-observer.ts';
import { projectEnv, writeMithaiProject } from './mithai-project.ts';
import type { Fakes, RunningSystem, SystemUnderTest } from './types.ts';

/** A log destination that drops every line. */
function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

export function inProcessMithai(): SystemUnderTest {
  return {
    name: 'mithai',
    async start(fakes: Fakes): Promise<RunningSystem> {
      const dir = mkdtempSync(join(tmpdir(), 'mithai-bench-'));
      try {
        const configPath = writeMithaiProject(dir, { slack: fakes.slack, modelUrl: fakes.model.url });
        const service = await startSlackService(loadConfig(configPath, { env: projectEnv(fakes.slack) }), {
          logDestination: sink(),
          turnsPerMinute: 1_000_000,
        });
        return {
          name: 'mithai',
          approveActionId: ACTIONS.approve,
          isCard: (blocks) => hasButton(blocks, ACTIONS.approve),
          onApprovedDurable: (listener) => service.runtime.gate.onChange((a) => {
            if (a.state === 'approved') listener(a.thread, performance.now());
          }),
          async stop() {
            try {
              await service.stop('bench round finished');
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          },
        };
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    },
  };
}

export function inProcessBaseline(transport: 'stream' | 'create' = 'stream'): SystemUnderTest {
  return {
    name: 'baseline',
    async start(fakes: Fakes): Promise<RunningSystem> {
      const loop = await startBareLoop({
        botToken: fakes.slack.config.botToken,
        appToken: fakes.slack.config.appToken,
        slackApiUrl: fakes.slack.apiUrl,
        anthropicBaseUrl: fakes.model.url,
        anthropicApiKey: FAKE_API_KEY,
        transport,
      });
      return {
        name: 'baseline',
        approveActionId: BARE_APPROVE_ACTION,
        isCard: (blocks) => hasButton(blocks, BARE_APPROVE_ACTION),
        stop: () => loop.stop(),
      };
    },
  };
}
