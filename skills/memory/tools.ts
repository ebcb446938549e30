/**
 * The built-in `memory` skill: the team's notes in the memory folder, through `ctx.memory`.
 *
 * Every guard is in `ctx.memory` itself (the runtime's MemoryFiles), so a project's own skills
 * get the same ones: paths stay inside the memory folder (no `..`, no links, no hidden files),
 * the audit log `approvals.json` and secrets files are never opened, daily notes are written
 * only by `appendDailyNote`, and written text is redacted. What this skill adds is the policy:
 * writing `MEMORY.md` needs approval (it is injected into every conversation), and what it reads
 * is marked untrusted (an earlier conversation may have written it).
 *
 * Enable it with `skills.builtin: [memory]`. It has no settings.
 */
import { defineSkill, isMemoryMd, writablePath, z } from 'mithai';

/** Lines a search returns at most, and characters kept of each. */
const MAX_MATCHES = 50;
const MAX_LINE_CHARS = 300;

const path = z.string().min(1).max(200).describe('Path relative to the memory folder, e.g. runbooks/db-failover.md');

export default defineSkill({
  tools: {
    list_files: {
      description: 'List the files in the memory folder (relative paths).',
      human: 'auto',
      readOnly: true,
      input: z.object({}),
      handle: async (_input, ctx) => {
        const files = await ctx.memory.listFiles();
        return files.length === 0 ? 'The memory folder has no files yet.' : files.join('\n');
      },
    },

    read_file: {
      description: 'Read one file of the memory folder.',
      human: 'auto',
      readOnly: true,
      untrustedOutput: true,
      input: z.object({ path }),
      handle: async ({ path }, ctx) => ctx.memory.readFile(path),
    },

    search: {
      description: 'Find lines in the memory files that contain a word or phrase (case-insensitive).',
      human: 'auto',
      readOnly: true,
      untrustedOutput: true,
      input: z.object({ query: z.string().min(2).max(200) }),
      handle: async ({ query }, ctx) => {
        const needle = query.toLowerCase();
        const matches: string[] = [];
        for (const file of await ctx.memory.listFiles()) {
          let text: string;
          try {
            text = await ctx.memory.readFile(file);
          } catch {
            continue; // a file that changed or became unreadable since the listing
          }
          for (const [index, line] of text.split('\n').entries()) {
            if (!line.toLowerCase().includes(needle)) continue;
            matches.push(`${file}:${index + 1}: ${line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line}`);
            if (matches.length >= MAX_MATCHES) return `${matches.join('\n')}\n(stopped after ${MAX_MATCHES} matches)`;
          }
        }
        return matches.length === 0 ? `No line contains "${query}".` : matches.join('\n');
      },
    },

    write_file: {
      description: 'Create or replace a text file in the memory folder. Writing MEMORY.md needs approval.',
      human: 'dynamic',
      input: z.object({ path, content: z.string().max(256 * 1024) }),
      handle: async ({ path, content }, ctx) => {
        await ctx.memory.writeFile(path, content);
        return `Wrote ${path} (${content.length} characters).`;
      },
    },

    append_note: {
      description: "Add an entry to today's daily note.",
      human: 'auto',
      input: z.object({ text: z.string().min(1).max(10_000) }),
      handle: async ({ text }, ctx) => {
        await ctx.memory.appendDailyNote(text);
        return "Added to today's daily note.";
      },
    },
  },

  // MEMORY.md enters every conversation, so changing it is a human's call; other files are
  // notes. A path the rules refuse also asks (the write itself will then be refused).
  resolveHuman: (tool, input) => {
    if (tool !== 'write_file') return 'approve';
    const raw = (input as { path?: unknown }).path;
    try {
      return isMemoryMd(writablePath(String(raw))) ? 'approve' : null;
    } catch {
      return 'approve';
    }
  },
});
