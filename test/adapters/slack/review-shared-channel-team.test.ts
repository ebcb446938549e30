/**
 * Review hardening: in a channel shared with another organisation (`is_ext_shared_channel`),
 * only the event's `user_team` names the sender's home team. An event there that lacks it must
 * not be judged "inside" from `team` (which can name the workspace the event is delivered to):
 * the sender is then asked about (users.info), which fails closed. Outside shared channels
 * `team` is still used as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { normalise } from '../../../src/adapters/slack/inbound-listeners.ts';
import { Organisation } from '../../../src/adapters/slack/organisation.ts';
import { FakeClock } from '../../fixtures/fake-clock.ts';

const TEAM = 'T0OURS0001';

test('an event in an externally shared channel without user_team is not taken as inside from its team field', async () => {
  const asked: string[] = [];
  const organisation = new Organisation({
    teamId: TEAM,
    lookups: {
      userInfo: async (user) => { asked.push(user); return { team_id: 'T0PARTNER1' }; },
      conversationInfo: async () => ({}),
    },
    clock: new FakeClock(),
    logger: pino({ level: 'silent' }),
  });
  const event = { type: 'app_mention', user: 'UGUEST0001', team: TEAM, text: '<@UBOT> run it', ts: '1.000001', channel: 'C0SHARED01' };
  const msg = normalise('app_mention', event, { type: 'event_callback', team_id: TEAM, is_ext_shared_channel: true }, TEAM);
  assert.equal(msg.userTeam, undefined, 'team is not the sender\'s home team in a shared channel');
  assert.equal((await organisation.user(msg.user!, msg.userTeam)).isOutside, true);
  assert.deepEqual(asked, ['UGUEST0001'], 'users.info decided');

  const withUserTeam = normalise('app_mention', { ...event, user_team: 'T0PARTNER1' }, { type: 'event_callback', team_id: TEAM, is_ext_shared_channel: true }, TEAM);
  assert.equal(withUserTeam.userTeam, 'T0PARTNER1');
  const unshared = normalise('app_mention', event, { type: 'event_callback', team_id: TEAM, is_ext_shared_channel: false }, TEAM);
  assert.equal(unshared.userTeam, TEAM, 'outside shared channels team still settles it');
});
