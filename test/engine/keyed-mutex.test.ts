import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../src/engine/keyed-mutex.ts';

test('runs calls with the same key one at a time, in arrival order', async () => {
  const mutex = new KeyedMutex();
  const events: string[] = [];
  const slow = (name: string, ms: number) => async () => {
    events.push(`${name}:start`);
    await new Promise((r) => setTimeout(r, ms));
    events.push(`${name}:end`);
  };
  await Promise.all([mutex.run('t1', slow('a', 30)), mutex.run('t1', slow('b', 1)), mutex.run('t1', slow('c', 1))]);
  assert.deepEqual(events, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  assert.equal(mutex.size, 0, 'keys are forgotten once idle');
});

test('runs calls with different keys in parallel', async () => {
  const mutex = new KeyedMutex();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = mutex.run('t1', async () => {
    events.push('t1:start');
    await gate;
    events.push('t1:end');
  });
  await mutex.run('t2', async () => {
    events.push('t2:ran');
  });
  release();
  await first;
  assert.deepEqual(events, ['t1:start', 't2:ran', 't1:end']);
});

test('a failing call does not block the next one with the same key', async () => {
  const mutex = new KeyedMutex();
  await assert.rejects(mutex.run('k', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await mutex.run('k', async () => 42), 42);
});
