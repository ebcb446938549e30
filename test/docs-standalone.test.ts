/**
 * The docs stand alone. A reader of the repository or the npm package has the docs, the code and
 * nothing else, so no doc may send them to a file they do not have: a design document, a
 * security baseline, a "§N" section of either, or a path outside the repository. And every
 * relative markdown link must point at a file (and heading) that exists.
 *
 * Scanned: README.md, CONTRIBUTING.md and every .md under docs/, templates/, skills/ and src/.
 * Each finding is named `file:line`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve('.');

function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : markdownFiles(path);
    return entry.endsWith('.md') ? [path] : [];
  });
}

const FILES = [
  ...['README.md', 'CONTRIBUTING.md'].map((f) => resolve(f)).filter((f) => existsSync(f)),
  ...['docs', 'templates', 'skills', 'src'].flatMap((d) => markdownFiles(resolve(d))),
];

/** References to material a reader does not have. */
const FORBIDDEN: readonly { what: string; pattern: RegExp }[] = [
  { what: 'DESIGN.md', pattern: /\bDESIGN(?:\.md)?\b/ },
  { what: 'SECURITY-BASELINE', pattern: /SECURITY[-_ ]BASELINE/i },
  { what: 'a "§" section citation', pattern: /§/ },
  { what: 'a path outside the repository', pattern: /\.\.\/shared\/|\/work\/shared\b/ },
];

const where = (file: string, index: number): string => `${relative(ROOT, file)}:${index + 1}`;

/** The file's lines with fenced code blocks blanked (line numbers kept), and inline code too unless asked. */
function proseLines(text: string, keepInlineCode = false): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    if (fenced) return '';
    return keepInlineCode ? line : line.replace(/`[^`]*`/g, '');
  });
}

/** GitHub's heading anchors of a markdown file (lower case, punctuation dropped, spaces to `-`). */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(file, 'utf8'), true)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const base = heading[1]!.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

test('the docs cite no file a reader does not have', () => {
  const findings: string[] = [];
  for (const file of FILES) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const { what, pattern } of FORBIDDEN) {
        if (pattern.test(line)) findings.push(`${where(file, i)}: ${what}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(findings, []);
});

test('relative links in the docs point at files and headings that exist', () => {
  const findings: string[] = [];
  const LINK = /\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  for (const file of FILES) {
    proseLines(readFileSync(file, 'utf8')).forEach((line, i) => {
      for (const match of line.matchAll(LINK)) {
        const target = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
        const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
        const path = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
        if (!existsSync(path)) {
          findings.push(`${where(file, i)}: ${target}: no such file`);
        } else if (fragment !== undefined && fragment !== '' && path.endsWith('.md') && !anchors(path).has(decodeURIComponent(fragment).toLowerCase())) {
          findings.push(`${where(file, i)}: ${target}: no such heading`);
        }
      }
    });
  }
  assert.deepEqual(findings, []);
});

test('the scan covers the docs', () => {
  const names = FILES.map((f) => relative(ROOT, f));
  for (const expected of ['README.md', 'CONTRIBUTING.md', 'docs/security.md', 'skills/http/SKILL.md', 'templates/skill/SKILL.md']) {
    assert.ok(names.includes(expected), `${expected} is scanned`);
  }
});
