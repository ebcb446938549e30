// CI check that mithai works outside the clone, installed the way the README installs it:
// `npm pack`, then `npm install -g` of the tarball into a temp prefix, then, with only that
// prefix's bin/ added to the PATH and in a temp folder outside the checkout: `mithai init`,
// `mithai skill validate`, `mithai chat` against the local fake model (piped stdin, the example
// skill's approval answered `y`) and `mithai audit verify`.
//
//   node scripts/pack-install-check.mjs [--keep]
//
// The install resolves the dependencies from the registry, preferring npm's cache
// (--prefer-offline). better-sqlite3 builds from source when no prebuilt binary can be
// downloaded, which needs the Node headers: set npm_config_nodedir=/usr where node-gyp cannot
// fetch them (.ci/run does). That build is most of the run (about 2-3 minutes on 2 cores).
// --keep leaves the temp folder in place; it is always kept when a step fails.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
const FAKE_KEY = 'sk-ant-fake-0000-test-key';
const started = Date.now();
const work = realpathSync(mkdtempSync(join(tmpdir(), 'mithai-pack-')));
const prefix = join(work, 'prefix');
const home = join(work, 'home');
mkdirSync(home);
// npm 11.19's --strict-allow-scripts check fails on a global folder that does not exist yet.
mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });

function fail(message) {
  process.stderr.write(`pack-install-check: ${message}\n(the files are in ${work})\n`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

/** Run a command to its end; resolves { code, stdout, stderr }, fails the check on a timeout. */
function run(command, args, { cwd, env = process.env, stdin = '', timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`${command} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s\n${stdout}\n${stderr}`);
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => fail(`${command}: ${err.message}`));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

async function step(label, fn) {
  const at = Date.now();
  await fn();
  process.stdout.write(`ok  ${label} (${((Date.now() - at) / 1000).toFixed(1)} s)\n`);
}

function expectOk(result, what) {
  check(result.code === 0, `${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

check(!work.startsWith(ROOT + sep), `the temp folder ${work} is inside the checkout`);

// Only the installed prefix may provide `mithai`: no folder of the checkout on the PATH, and no
// variable of the developer's shell that would steer the runtime.
const env = { ...process.env };
for (const name of Object.keys(env)) if (/^(ANTHROPIC|SLACK|MITHAI)_/.test(name)) delete env[name];
env.PATH = [join(prefix, 'bin'), ...(env.PATH ?? '').split(delimiter).filter((p) => p !== '' && !realpathOr(p).startsWith(ROOT))].join(delimiter);

function realpathOr(path) {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

let tarball;
await step('npm pack', async () => {
  const pack = expectOk(await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }), 'npm pack');
  const [info] = JSON.parse(pack.stdout);
  tarball = join(work, info.filename);
  const files = new Set(info.files.map((f) => f.path));
  for (const needed of ['bin/mithai.js', 'src/cli/main.ts', 'skills/http/tools.ts', 'templates/init/config.yaml', 'README.md']) {
    check(files.has(needed), `the package lacks ${needed}`);
  }
  // The repository's own project and tests are not part of the package.
  for (const path of files) {
    check(!/^(skills\/example\/|memory\/|test\/|config\.yaml$|\.env)/.test(path), `the package holds ${path}`);
  }
});

await step('npm install -g <tarball> into a temp prefix', async () => {
  expectOk(
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3,esbuild', '--strict-allow-scripts', tarball], { cwd: work, timeoutMs: 15 * 60_000 }),
    'npm install -g',
  );
});

await step('mithai is on the PATH, from the installed package', async () => {
  const version = expectOk(await run('mithai', ['--version'], { cwd: home, env }), 'mithai --version');
  const { version: expected } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  check(version.stdout.trim() === expected, `mithai --version printed ${version.stdout.trim()}, not ${expected}`);
  const installed = realpathSync(join(prefix, 'bin', 'mithai'));
  check(installed === join(prefix, 'lib', 'node_modules', 'mithai', 'bin', 'mithai.js'), `${join(prefix, 'bin', 'mithai')} is ${installed}`);
});

const project = join(home, 'my-ops');
await step('mithai init my-ops', async () => {
  const init = expectOk(await run('mithai', ['init', 'my-ops', '--yes'], { cwd: home, env }), 'mithai init');
  check(/^ {2}2\. mithai chat\b/m.test(init.stdout), `mithai init does not say to run mithai chat next:\n${init.stdout}`);
  // The editor settings name the installed runtime, not the checkout.
  const tsconfig = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
  const index = tsconfig.compilerOptions.paths.mithai[0];
  check(index === join(prefix, 'lib', 'node_modules', 'mithai', 'src', 'index.ts'), `tsconfig.json maps mithai to ${index}`);
});

await step('mithai skill validate', async () => {
  const validate = expectOk(await run('mithai', ['skill', 'validate'], { cwd: project, env }), 'mithai skill validate');
  for (const skill of ['example (2 tools)', 'http (2 tools)', 'memory (5 tools)']) {
    check(validate.stdout.includes(`ok  ${skill}`), `mithai skill validate did not pass ${skill}:\n${validate.stdout}`);
  }
});

await step('mithai chat against the local fake model', async () => {
  const script = join(work, 'model-script.json');
  const recorded = join(work, 'model-requests.json');
  writeFileSync(
    script,
    JSON.stringify([
      { content: [{ type: 'tool_use', id: 'toolu_pack_1', name: 'example__list_services', input: {} }], stop_reason: 'tool_use' },
      { content: [{ type: 'tool_use', id: 'toolu_pack_2', name: 'example__restart_service', input: { name: 'worker' } }], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Restarted the worker.' }], stop_reason: 'end_turn' },
    ]),
  );
  const fake = spawn(process.execPath, ['--import', 'tsx', 'test/fakes/anthropic/serve.ts', script, '--api-key', FAKE_KEY, '--record', recorded], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const fakeDone = new Promise((resolve) => fake.once('close', resolve));
  try {
    const early = () => fail('the fake model exited before it listened');
    fake.once('close', early);
    const url = await new Promise((resolve) => {
      let out = '';
      fake.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0].trim());
      });
    });
    fake.removeListener('close', early);
    const configPath = join(project, 'config.yaml');
    const config = readFileSync(configPath, 'utf8');
    check(config.includes('# base_url: https://api.anthropic.com'), 'config.yaml has no base_url line to point at the fake');
    writeFileSync(configPath, config.replace('# base_url: https://api.anthropic.com', `base_url: ${url}`));
    const envPath = join(project, '.env');
    writeFileSync(envPath, readFileSync(envPath, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${FAKE_KEY}`));
    const chat = expectOk(await run('mithai', ['chat'], { cwd: project, env, stdin: 'list the services, then restart the worker\ny\n' }), 'mithai chat');
    check(chat.stdout.includes('mithai> Restarted the worker.'), `mithai chat did not give the model's answer:\n${chat.stdout}`);
  } finally {
    fake.kill('SIGTERM');
    await fakeDone;
  }
  const requests = JSON.parse(readFileSync(recorded, 'utf8'));
  check(requests.length === 3, `the fake model was called ${requests.length} times, not 3`);
  check(JSON.stringify(requests[2].messages.at(-1)).includes('worker restarted (restart #1)'), 'the approved restart did not run exactly once');
});

await step('mithai audit verify', async () => {
  const verify = expectOk(await run('mithai', ['audit', 'verify'], { cwd: project, env }), 'mithai audit verify');
  check(/^OK: /m.test(verify.stdout), `mithai audit verify:\n${verify.stdout}`);
});

if (process.argv.includes('--keep')) process.stdout.write(`kept ${work}\n`);
else rmSync(work, { recursive: true, force: true });
process.stdout.write(`pack-install-check: ok (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
