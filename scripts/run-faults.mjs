// The fault-injection suite (`npm run test:faults`): every test/faults/*.fault.ts with node's own
// runner (not picked up by `npm test`, which runs *.test.ts only). Each scenario appends what
// it did and found to a report in a temp directory; afterwards this prints one line per
// category and the totals, and fails when any invariant was violated (or any test failed).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const filter = process.argv.slice(2);
const files = readdirSync('test/faults')
  .filter((f) => f.endsWith('.fault.ts'))
  .sort()
  .map((f) => join('test/faults', f))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('run-faults: no fault files matched');
  process.exit(1);
}

const reportDir = mkdtempSync(join(tmpdir(), 'mithai-faults-report-'));
const started = Date.now();
const env = { ...process.env, MITHAI_FAULTS_REPORT: reportDir };
// The suite sets the crash point of each child itself; one inherited from the shell would kill the runner's children at random.
delete env.MITHAI_FAULT_POINT;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', './scripts/blocking-stdout.mjs', '--test', '--test-force-exit', '--test-concurrency=2', '--test-timeout=900000', ...files],
  { stdio: 'inherit', env },
);

const reports = readdirSync(reportDir)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(reportDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
rmSync(reportDir, { recursive: true, force: true });

const KINDS = {
  doubleExecutions: 'double executions',
  lostRecords: 'lost records',
  liveCards: 'cards left live without a decision',
  silentThreads: 'silent threads',
  duplicateRecords: 'duplicate records',
  other: 'other violations',
};
const count = (list, kind) => list.reduce((n, r) => n + r.findings.filter((f) => f.kind === kind).length, 0);
const line = (list) => Object.entries(KINDS).map(([kind, words]) => `${words} ${count(list, kind)}`).join(', ');

const ORDER = ['kill points', 'random kills', 'sigterm', 'expiry while down', 'queued turns', 'cli decisions'];
const rank = (c) => (ORDER.includes(c) ? ORDER.indexOf(c) : ORDER.length);
const categories = [...new Set(reports.map((r) => r.category))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
for (const category of categories) {
  const list = reports.filter((r) => r.category === category);
  const failed = list.filter((r) => r.findings.length > 0).length;
  const kills = list.reduce((n, r) => n + r.kills, 0);
  const runs = list.reduce((n, r) => n + r.runs, 0);
  console.log(`faults: ${category}: scenarios ${list.length} (${failed} with violations), kills ${kills}, runs ${runs}, ${line(list)}`);
}
const killPoints = new Set(reports.map((r) => r.point).filter(Boolean)).size;
const kills = reports.reduce((n, r) => n + r.kills, 0);
const runs = reports.reduce((n, r) => n + r.runs, 0);
const violations = reports.reduce((n, r) => n + r.findings.length, 0);
console.log(
  `faults: kill points tried ${killPoints}, runs ${runs}, ${line(reports)}; ` +
    `${reports.length} scenarios, ${kills} kills, ${Math.round((Date.now() - started) / 1000)} s`,
);
if (violations > 0) {
  console.log('faults: violations:');
  for (const r of reports) for (const f of r.findings) console.log(`  ${r.name}: [${f.kind}] ${f.message}`);
}
if (reports.length === 0) console.error('run-faults: no scenario reported anything');
process.exit(result.status !== 0 || violations > 0 || reports.length === 0 ? 1 : 0);
