/**
 * The commented examples `mithai init` writes into config.yaml for the shell, kubernetes and http
 * built-ins are valid: uncommented, each block passes its skill's own config check. A new user who
 * uncomments them gets a working skill, not a config error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseShellConfig } from '../../skills/shell/config.ts';
import { parseConfig as parseKubernetesConfig } from '../../skills/kubernetes/config.ts';
import { httpConfig } from '../../skills/http/config.ts';

test('the commented built-in examples in the init config are valid skill configs', () => {
  const template = readFileSync('templates/init/config.yaml', 'utf8');
  // The examples are the commented lines under `skills:` that are YAML: `# config:` and the lines
  // indented after the "#" (prose comments start right after "# ").
  const lines = template.split('\n');
  const start = lines.findIndex((l) => l.startsWith('  # config:'));
  assert.ok(start > 0, 'the examples are there');
  const yaml = lines.slice(start).filter((l) => /^ {2}# (config:| {2,}\S)/.test(l)).map((l) => l.replace(/^ {2}# /, '')).join('\n');
  const examples = parse(yaml) as { config: { shell: unknown; kubernetes: unknown; http: Record<string, unknown> } };
  const shell = parseShellConfig(examples.config.shell);
  assert.ok(shell.allowed.length >= 3);
  const kubernetes = parseKubernetesConfig(examples.config.kubernetes);
  assert.deepEqual([...kubernetes.productionContexts], ['prod']);
  assert.ok(httpConfig(examples.config.http).allowedHosts, 'the http example parses');
});
