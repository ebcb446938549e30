/**
 * Review findings in the kubernetes skill, against the fake kubectl:
 *
 * 1. kubectl got `ctx.childEnv()` as it is: credentials out, but every code-loading variable in
 *    (LD_PRELOAD, NODE_OPTIONS, PYTHONPATH, BASH_ENV, …), which the shell skill drops for its
 *    programs. kubectl starts exec credential plugins (often node or python scripts) with its
 *    own environment, so NODE_OPTIONS=--require … ran planted code in them; here the fake
 *    kubectl (a node program, as such plugins are) proves it. Now the variables
 *    `isCodeLoadingVariable` names are dropped, PATH is kept (plugins are found on it).
 * 2. A `namespaces` map given for contexts named like Object.prototype members (`constructor`,
 *    `toString`) was accepted without listing them (`name in map` saw the prototype), and every
 *    call then failed with `TypeError: list.includes is not a function` instead of the config
 *    error naming the key. Operator config, so low; now `Object.hasOwn`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import skill from '../../skills/kubernetes/tools.ts';
import { KubernetesConfigError, parseConfig } from '../../skills/kubernetes/config.ts';
import { createTestToolContext } from '../../src/testing/index.ts';
import { childEnv } from '../../src/skills/child-env.ts';
import { tempDir } from './skill-fixtures.ts';

const FIXTURE = resolve('test/fixtures/fake-kubectl/fake-kubectl.mjs');

test('code-loading variables never reach kubectl (or the credential plugins it starts)', async (t) => {
  const dir = tempDir(t, 'mithai-review-kube-env-');
  const kubectl = join(dir, 'kubectl');
  writeFileSync(kubectl, `#!/bin/sh\nexec '${process.execPath}' '${FIXTURE}' "$@"\n`);
  chmodSync(kubectl, 0o755);
  const log = join(dir, 'runs.jsonl');
  const marker = join(dir, 'planted-ran');
  const planted = join(dir, 'planted.cjs');
  writeFileSync(planted, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KUBECONFIG: join(dir, 'kubeconfig'),
    FAKE_KUBECTL_LOG: log,
    NODE_OPTIONS: `--require ${planted}`,
    LD_PRELOAD: '',
    PYTHONPATH: dir,
    BASH_ENV: planted,
  };
  const ctx = createTestToolContext({
    config: { kubectl, contexts: ['staging'], namespaces: ['api'], default_context: 'staging' },
    childEnv: () => childEnv(env),
  });
  await skill.tools.get!.handle({ namespace: 'api', kind: 'pods' }, ctx);
  assert.equal(existsSync(marker), false, 'NODE_OPTIONS made kubectl load planted code');
  const { envNames } = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]!) as { envNames: string[] };
  for (const name of ['NODE_OPTIONS', 'LD_PRELOAD', 'PYTHONPATH', 'BASH_ENV']) assert.ok(!envNames.includes(name), `${name} reached kubectl`);
  for (const name of ['PATH', 'HOME', 'KUBECONFIG']) assert.ok(envNames.includes(name), `${name} still reaches kubectl`);
});

test('a namespaces map must list contexts named like Object.prototype members', () => {
  for (const context of ['constructor', 'toString', 'hasOwnProperty']) {
    assert.throws(
      () => parseConfig({ contexts: ['staging', context], namespaces: { staging: ['api'] } }),
      (err: unknown) => err instanceof KubernetesConfigError && err.message.includes(`namespaces.${context}: missing`),
      context,
    );
  }
  const ok = parseConfig({ contexts: ['constructor'], namespaces: { constructor: ['api'] } });
  assert.deepEqual(ok.namespaces.get('constructor'), ['api']);
});
