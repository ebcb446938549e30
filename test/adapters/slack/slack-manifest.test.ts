/**
 * The Slack app manifest `mithai init` writes must grant exactly what the adapter uses: Socket
 * Mode and interactivity on; the scopes for every Web API call and event it relies on; DMs in
 * both respond modes; channel message events only for `respond: all`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { initProject } from '../../../src/cli/init.ts';

interface Manifest {
  features: { app_home: { messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
}

function manifestFor(respond: 'mentions' | 'all'): Manifest {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-manifest-'));
  try {
    initProject(dir, { bot_name: 'opsbot', model: 'claude-test', respond }, false);
    return parse(readFileSync(join(dir, 'slack-manifest.yaml'), 'utf8')) as Manifest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('respond: mentions subscribes to mentions and DMs only, with Socket Mode and interactivity on', () => {
  const m = manifestFor('mentions');
  assert.equal(m.settings.socket_mode_enabled, true);
  assert.equal(m.settings.interactivity.is_enabled, true);
  assert.deepEqual(m.settings.event_subscriptions.bot_events, ['app_mention', 'message.im', 'channel_shared', 'channel_unshared']);
  assert.equal(m.features.app_home.messages_tab_enabled, true, 'people can DM the bot');
  assert.equal(m.features.app_home.messages_tab_read_only_enabled, false);
});

test('respond: all adds channel and private-channel messages, each event once', () => {
  const events = manifestFor('all').settings.event_subscriptions.bot_events;
  assert.deepEqual([...events].sort(), ['app_mention', 'channel_shared', 'channel_unshared', 'message.channels', 'message.groups', 'message.im']);
});

test('the bot scopes are the ones the adapter uses (users.info and conversations.info for Slack Connect), and nothing more', () => {
  const scopes = manifestFor('all').oauth_config.scopes.bot;
  assert.deepEqual([...scopes].sort(), ['app_mentions:read', 'channels:history', 'channels:read', 'chat:write', 'groups:history', 'groups:read', 'im:history', 'im:read', 'mpim:read', 'reactions:write', 'users:read']);
});
