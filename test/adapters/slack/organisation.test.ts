/**
 * Who is from another organisation, and which channels are shared with one. The rules: the
 * payload's team settles "inside" without a call (the app's team or its Enterprise org); anyone
 * else is judged by users.info (stranger → outside, the app's team or Enterprise org → inside,
 * anything else → outside); a channel is outside when the event says so or conversations.info
 * shows external (or pending, or unplaceable) sharing. Answers are cached for their TTL on the
 * injected clock; a failed or slow lookup answers "outside", is not cached, and is logged once
 * per id with ids and Slack's error code only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CHANNEL_NOT_SHARED_TTL_MS, CHANNEL_TTL_MS, LOOKUP_TIMEOUT_MS, Organisation, USER_TTL_MS, judgeConversation } from '../../../src/adapters/slack/organisation.ts';
import type { ConversationInfo, OrganisationLookups, UserInfo } from '../../../src/adapters/slack/organisation.ts';
import { FakeClock } from '../../fixtures/fake-clock.ts';

const TEAM = 'T0OURS0001';
const ENTERPRISE = 'E0OURS0001';

/** A Slack platform error as the Web API client throws it. */
function platformError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });
}

type Answer<T> = T | Error | (() => Promise<T>);

/** Lookups answered from tables; every call is counted. */
function lookups(users: Record<string, Answer<UserInfo>>, channels: Record<string, Answer<ConversationInfo>> = {}) {
  const calls: string[] = [];
  const answer = async <T>(table: Record<string, Answer<T>>, id: string, missing: string): Promise<T> => {
    const found = table[id];
    if (found === undefined) throw platformError(missing);
    if (found instanceof Error) throw found;
    if (typeof found === 'function') return (found as () => Promise<T>)();
    return found;
  };
  const api: OrganisationLookups = {
    userInfo: (user) => {
      calls.push(`users.info ${user}`);
      return answer(users, user, 'user_not_found');
    },
    conversationInfo: (channel) => {
      calls.push(`conversations.info ${channel}`);
      return answer(channels, channel, 'channel_not_found');
    },
  };
  return { api, calls };
}

function setup(api: OrganisationLookups, extra: { enterpriseId?: string } = {}) {
  const clock = new FakeClock();
  let logText = '';
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => { logText += String(chunk); done(); } }));
  const org = new Organisation({ teamId: TEAM, ...extra, lookups: api, clock, logger });
  return { org, clock, logs: () => logText };
}

test('the payload naming the app\'s team, or its Enterprise org, settles "inside" without asking Slack', async () => {
  const { api, calls } = lookups({});
  const { org } = setup(api, { enterpriseId: ENTERPRISE });
  assert.equal((await org.user('UALICE', TEAM)).isOutside, false);
  assert.equal((await org.user('UALICE', ENTERPRISE)).isOutside, false);
  assert.deepEqual(calls, []);
});

test('anyone else is judged by users.info: stranger, other team and other enterprise are outside; our team or our Grid org inside', async () => {
  const { api, calls } = lookups({
    USTRANGER: { team_id: TEAM, is_stranger: true },
    UOURS: { team_id: TEAM },
    UGRID: { team_id: 'T0SISTER01', enterprise_user: { enterprise_id: ENTERPRISE } },
    UEXT: { team_id: 'T0OTHER001' },
    UOTHERGRID: { team_id: 'T0OTHER002', enterprise_user: { enterprise_id: 'E0OTHER001' } },
    UNOTEAM: {},
  });
  const { org } = setup(api, { enterpriseId: ENTERPRISE });
  const outside = async (user: string, team?: string) => (await org.user(user, team)).isOutside;
  assert.equal(await outside('USTRANGER', 'T0OTHER001'), true, 'is_stranger wins over a team_id');
  assert.equal(await outside('UOURS'), false, 'no hint: asked, and ours');
  assert.equal(await outside('UGRID', 'T0SISTER01'), false, 'another workspace of our Enterprise org');
  assert.equal(await outside('UEXT', 'T0OTHER001'), true);
  assert.equal(await outside('UOTHERGRID', 'T0OTHER002'), true);
  assert.equal(await outside('UNOTEAM'), true, 'no team at all cannot be placed');
  assert.equal(await outside(''), true, 'no user id');
  assert.match((await org.user('UEXT', 'T0OTHER001')).reason, /team T0OTHER001/);
  assert.equal(calls.length, 6, 'the repeated question was answered from the cache');
});

test('without an Enterprise org of its own, an enterprise_user never makes someone inside', async () => {
  const { api } = lookups({ UGRID: { team_id: 'T0SISTER01', enterprise_user: { enterprise_id: ENTERPRISE } } });
  const { org } = setup(api);
  assert.equal((await org.user('UGRID', 'T0SISTER01')).isOutside, true);
});

test('a users.info answer is kept for its TTL on the clock, then asked again', async () => {
  const { api, calls } = lookups({ UEXT: { team_id: 'T0OTHER001' } });
  const { org, clock } = setup(api);
  await org.user('UEXT', 'T0OTHER001');
  clock.advance(USER_TTL_MS - 1);
  await org.user('UEXT', 'T0OTHER001');
  assert.equal(calls.length, 1);
  clock.advance(1);
  await org.user('UEXT', 'T0OTHER001');
  assert.equal(calls.length, 2, 'asked again once the TTL ran out');
});

test('a failed users.info answers "outside", is not cached, and is logged once (ids and the error code only) until it succeeds', async () => {
  let fail = true;
  const { api, calls } = lookups({ UEXT: async () => { if (fail) throw platformError('internal_error'); return { team_id: TEAM }; } });
  const { org, logs } = setup(api);
  const first = await org.user('UEXT', 'T0OTHER001');
  assert.deepEqual(first, { isOutside: true, reason: 'users.info failed (internal_error)' });
  assert.equal((await org.user('UEXT', 'T0OTHER001')).isOutside, true);
  assert.equal(calls.length, 2, 'a failure is not remembered: the next question asks again');
  assert.equal(logs().match(/slack\.organisation_lookup_failed/g)?.length, 1, 'logged once');
  assert.match(logs(), /"user":"UEXT".*"method":"users.info".*"error":"internal_error"/);
  fail = false;
  assert.equal((await org.user('UEXT', 'T0OTHER001')).isOutside, false);
  fail = true;
  await org.user('UOTHER', 'T0OTHER001'); // user_not_found: another id, logged on its own
  assert.equal(logs().match(/slack\.organisation_lookup_failed/g)?.length, 2);
});

test('a lookup that does not answer in time answers "outside"; the late answer is still cached', async () => {
  let release: (info: UserInfo) => void = () => undefined;
  const { api, calls } = lookups({ USLOW: () => new Promise<UserInfo>((resolve) => (release = resolve)) });
  const { org, clock, logs } = setup(api);
  const question = org.user('USLOW', 'T0OTHER001');
  const again = org.user('USLOW', 'T0OTHER001');
  clock.advance(LOOKUP_TIMEOUT_MS);
  assert.deepEqual(await question, { isOutside: true, reason: 'users.info did not answer in time' });
  assert.equal((await again).isOutside, true);
  assert.equal(calls.length, 1, 'concurrent questions share one call');
  assert.match(logs(), /"error":"timeout".*slack\.organisation_lookup_failed/);
  release({ team_id: TEAM });
  await new Promise((r) => setImmediate(r));
  assert.equal((await org.user('USLOW', 'T0OTHER001')).isOutside, false);
  assert.equal(calls.length, 1, 'the late answer was kept');
  assert.equal(org.isKnownInside('USLOW'), true);
});

test('conversations.info: external, pending and unplaceable sharing are outside; within the Enterprise org or unshared, inside', () => {
  assert.equal(judgeConversation({ is_shared: true, is_ext_shared: true }).isOutside, true);
  assert.equal(judgeConversation({ is_shared: true, is_org_shared: true, is_ext_shared: true }).isOutside, true);
  assert.equal(judgeConversation({ is_pending_ext_shared: true }).isOutside, true);
  assert.equal(judgeConversation({ is_shared: true }).isOutside, true, 'shared, but not said to be within the org: fail closed');
  assert.equal(judgeConversation({ is_shared: true, is_org_shared: true }).isOutside, false);
  assert.equal(judgeConversation({ is_shared: false, is_ext_shared: false }).isOutside, false);
  assert.equal(judgeConversation({}).isOutside, false);
});

test('a channel the event calls shared is outside without a call, and stays so for the TTL; others are asked and cached', async () => {
  const { api, calls } = lookups({}, { CPLAIN: { is_shared: false }, CHINT: { is_shared: false }, CEXT: { is_shared: true, is_ext_shared: true } });
  const { org, clock } = setup(api);
  assert.deepEqual(await org.channel('CHINT', true), { isOutside: true, reason: 'event says is_ext_shared_channel' });
  assert.equal((await org.channel('CHINT')).isOutside, true, 'remembered: replies into it are refused too');
  assert.deepEqual(calls, []);
  assert.equal((await org.channel('CPLAIN', false)).isOutside, false, 'a hint of "not shared" is not taken on trust: asked');
  assert.equal((await org.channel('CEXT')).isOutside, true);
  assert.equal((await org.channel('CPLAIN')).isOutside, false);
  assert.equal(calls.length, 2);
  clock.advance(CHANNEL_TTL_MS);
  await org.channel('CPLAIN');
  assert.equal((await org.channel('CHINT')).isOutside, false, 'after the TTL the channel is asked about again');
  assert.equal(calls.length, 4);
});

test('"not shared" is kept one minute, "shared" ten; channel_shared / channel_unshared events change the answer at once', async () => {
  const { api, calls } = lookups({}, { CPLAIN: { is_shared: false }, CEXT: { is_shared: true, is_ext_shared: true } });
  const { org, clock } = setup(api);
  assert.equal((await org.channel('CPLAIN')).isOutside, false);
  assert.equal((await org.channel('CEXT')).isOutside, true);
  clock.advance(CHANNEL_NOT_SHARED_TTL_MS);
  await org.channel('CPLAIN');
  await org.channel('CEXT');
  assert.deepEqual(calls, ['conversations.info CPLAIN', 'conversations.info CEXT', 'conversations.info CPLAIN'], 'only the "not shared" answer was asked again');
  // Slack says CPLAIN was just shared: refused at once, without a call.
  org.changed('CPLAIN', true);
  assert.deepEqual(await org.channel('CPLAIN'), { isOutside: true, reason: 'channel_shared event' });
  // Unshared again: the next question asks Slack.
  org.changed('CPLAIN', false);
  assert.equal((await org.channel('CPLAIN')).isOutside, false);
  assert.equal(calls.length, 4);
});

test('conversations.info failing (channel_not_found, missing_scope) answers "shared"; a missing scope is an error that names the fix', async () => {
  const { api } = lookups({}, { CSCOPE: platformError('missing_scope') });
  const { org, logs } = setup(api);
  assert.deepEqual(await org.channel('CUNKNOWN'), { isOutside: true, reason: 'conversations.info failed (channel_not_found)' });
  assert.deepEqual(await org.channel('CSCOPE'), { isOutside: true, reason: 'conversations.info failed (missing_scope)' });
  assert.equal((await org.channel('')).isOutside, true);
  assert.match(logs(), /"level":50,.*"channel":"CSCOPE".*"error":"missing_scope","fix":"add the scopes users:read, channels:read, groups:read, im:read and mpim:read.*reinstall it"/);
  assert.match(logs(), /"level":40,.*"channel":"CUNKNOWN".*"error":"channel_not_found"/);
});

test('thread messages are placed by their team alone: any team but ours (or our Enterprise org) is foreign', async () => {
  const { api } = lookups({ UGRID: { team_id: 'T0SISTER01', enterprise_user: { enterprise_id: ENTERPRISE } } });
  const { org } = setup(api, { enterpriseId: ENTERPRISE });
  assert.equal(org.isForeignTeam(TEAM), false);
  assert.equal(org.isForeignTeam(ENTERPRISE), false);
  assert.equal(org.isForeignTeam('T0SISTER01'), true);
  assert.equal(org.isKnownInside('UGRID'), false, 'not asked yet');
  await org.user('UGRID', 'T0SISTER01');
  assert.equal(org.isKnownInside('UGRID'), true, 'a cached users.info answer places them');
});
