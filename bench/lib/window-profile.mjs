// What the main thread did between two events of a turn: cut a .cpuprofile to the windows from
// each `from` event to the next `to` event (events written by `turn-timeline.ts --events=FILE`
// in the same run), and sum the samples inside them: self time by function, and inclusive time
// by function of src/. An event is named `kind` (every one) or `kind#n` (the n-th of the turn).
//
//   node bench/lib/window-profile.mjs PROFILE.cpuprofile EVENTS.json FROM TO
//
// Times are per window, in ms. A sampling profiler slows what it samples, so compare two systems
// profiled the same way rather than reading these as the unprofiled cost.
import { readFileSync } from 'node:fs';

const [profileFile, eventsFile, from, to] = process.argv.slice(2);
if (to === undefined) {
  process.stderr.write('usage: node bench/lib/window-profile.mjs PROFILE.cpuprofile EVENTS.json FROM TO\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
const events = JSON.parse(readFileSync(eventsFile, 'utf8')).sort((a, b) => a[1] - b[1]);
const matches = (name, wanted) => name === wanted || (!wanted.includes('#') && name.startsWith(`${wanted}#`));

const windows = [];
let opened;
for (const [name, at] of events) {
  if (matches(name, from)) opened = at;
  else if (opened !== undefined && matches(name, to)) {
    windows.push([opened, at]);
    opened = undefined;
  }
}
if (windows.length === 0) {
  process.stderr.write(`no window from ${from} to ${to} in ${eventsFile}\n`);
  process.exit(1);
}

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
const label = (frame) => {
  const where = frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(/.*\/(src|test|bench)\//, '$1/');
  return `${frame.functionName || '(anon)'} ${where}:${frame.lineNumber + 1}`;
};
const self = new Map();
const inclusive = new Map();
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
let sampled = 0;
let at = profile.startTime;
let w = 0;
for (let i = 0; i < profile.samples.length && w < windows.length; i++) {
  at += profile.timeDeltas[i];
  while (w < windows.length && windows[w][1] < at) w++;
  if (w >= windows.length || at < windows[w][0]) continue;
  // A sample stands for the time until the next one.
  const us = profile.timeDeltas[i + 1] ?? 0;
  sampled += us;
  add(self, label(nodes.get(profile.samples[i]).callFrame), us);
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
    const frame = nodes.get(id).callFrame;
    if (!/\/src\//.test(frame.url) || /node_modules/.test(frame.url)) continue;
    const key = label(frame);
    if (!seen.has(key)) {
      seen.add(key);
      add(inclusive, key, us);
    }
  }
}

const span = windows.reduce((sum, [a, b]) => sum + (b - a), 0);
const perWindow = (us) => (us / windows.length / 1000).toFixed(3).padStart(7);
const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, us]) => `${perWindow(us)}  ${key}`).join('\n');
console.log(`${windows.length} windows from ${from} to ${to}: ${perWindow(span)} ms each, ${perWindow(sampled)} ms of samples each`);
console.log(`-- self --\n${top(self, 25)}\n-- inclusive, src/ --\n${top(inclusive, 30)}`);
