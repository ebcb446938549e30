// Summarise a .cpuprofile: self time by function and by file (node_modules grouped by package).
import { readFileSync } from 'node:fs';
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const file = new Map();
for (const [id, us] of self) {
  const { callFrame: c } = byId.get(id);
  const url = c.url.replace(/^file:\/\//, '').replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'pkg:$1').replace(/.*\/work\/main\//, '');
  const key = `${c.functionName || '(anon)'} ${url}:${c.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  file.set(url || c.functionName, (file.get(url || c.functionName) ?? 0) + us);
}
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
console.log(`total ${(total / 1000).toFixed(0)} ms\n-- by file --\n${top(file, 30)}\n-- by function --\n${top(fn, 40)}`);
