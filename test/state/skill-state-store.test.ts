import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StateError } from '../../src/errors.ts';
import { SkillStateStore } from '../../src/state/skill-state-store.ts';
import { BACKENDS, openTestDatabase } from './open-test-database.ts';

for (const backend of BACKENDS) {
  describe(`SkillStateStore contract (${backend})`, () => {
    test('a value set is read back as JSON, and a missing key is undefined', (t) => {
      const state = new SkillStateStore(openTestDatabase(t, backend)).forSkill('k8s');
      state.set('clusters', { prod: { replicas: 3, tags: ['a', 'b'] }, note: null });
      state.set('count', 7);
      assert.deepEqual(state.get('clusters'), { prod: { replicas: 3, tags: ['a', 'b'] }, note: null });
      assert.equal(state.get<number>('count'), 7);
      assert.equal(state.get('missing'), undefined);
    });

    test('set replaces a value, and a read returns a copy rather than live state', (t) => {
      const state = new SkillStateStore(openTestDatabase(t, backend)).forSkill('k8s');
      state.set('list', [1]);
      const copy = state.get<number[]>('list');
      copy?.push(2);
      assert.deepEqual(state.get('list'), [1]);
      state.set('list', [1, 2, 3]);
      assert.deepEqual(state.get('list'), [1, 2, 3]);
    });

    test('each skill sees only its own keys', (t) => {
      const store = new SkillStateStore(openTestDatabase(t, backend));
      const k8s = store.forSkill('k8s');
      const shell = store.forSkill('shell');
      k8s.set('token-cache', 'k8s value');
      shell.set('history', ['ls']);
      assert.equal(shell.get('token-cache'), undefined);
      assert.deepEqual(k8s.keys(), ['token-cache']);
      assert.deepEqual(shell.keys(), ['history']);
      shell.delete('token-cache');
      assert.equal(k8s.get('token-cache'), 'k8s value');
    });

    test('delete removes a key and keys lists what is left, sorted', (t) => {
      const state = new SkillStateStore(openTestDatabase(t, backend)).forSkill('s');
      state.set('b', 1);
      state.set('a', 2);
      state.set('c', 3);
      state.delete('b');
      state.delete('never-set');
      assert.deepEqual(state.keys(), ['a', 'c']);
    });

    test('values JSON cannot hold are refused with a StateError and nothing is stored', (t) => {
      const state = new SkillStateStore(openTestDatabase(t, backend)).forSkill('s');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const bad of [undefined, () => 1, 10n, cyclic]) {
        assert.throws(() => state.set('k', bad), StateError);
      }
      assert.deepEqual(state.keys(), []);
    });

    test('a row with an unknown record version is refused with a StateError', (t) => {
      const db = openTestDatabase(t, backend);
      const state = new SkillStateStore(db).forSkill('s');
      state.set('k', 1);
      db.prepare('UPDATE skill_state SET version = 3').run();
      assert.throws(() => state.get('k'), (err: unknown) => err instanceof StateError && /version 3/.test(err.message));
    });
  });
}
