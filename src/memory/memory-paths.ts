/**
 * Which names inside the memory folder a caller (a tool, so in the end the model) may give.
 * Pure string rules, checked before anything touches the file system; `MemoryFiles` then opens
 * the file without following links (see memory-files.ts).
 *
 * A memory path is relative, `/`-separated, at most {@link MAX_DEPTH} parts of letters, digits,
 * `.`, `_` and `-`, none starting with `.` (no `..`, no hidden files), and it is refused when it
 * names:
 * - the audit log `approvals.json` (in any folder and any letter case: a case-insensitive file
 *   system would open the real one);
 * - a secrets file: `.env`-like names, key and certificate files (`*.pem`, `*.key`, `id_rsa`…),
 *   credential stores (`credentials`, `*.kdbx`, `*.p12`, …).
 * For writing, also anything under `daily/` (the runtime writes the daily notes) and files that
 * are not text (`.md`, `.txt`, `.yaml`, `.yml`, `.json` only).
 */

/** Parts a memory path may have (`runbooks/db/failover.md` is three). */
export const MAX_DEPTH = 4;
/** Characters a memory path may have. */
export const MAX_PATH_CHARS = 200;

const PART = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;
const AUDIT_FILE = 'approvals.json';
/** Names (lower case) of files that hold secrets, whatever folder they are in. */
const SECRET_FILE_NAMES = new Set(['credentials', 'credentials.json', 'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'known_hosts', 'authorized_keys', 'htpasswd', 'netrc', 'pgpass', 'kubeconfig']);
/** Extensions (lower case) of key, certificate and credential-store files. */
const SECRET_EXTENSIONS = ['.pem', '.key', '.p12', '.pfx', '.jks', '.keystore', '.kdbx', '.crt', '.cer', '.der', '.asc', '.gpg', '.ppk', '.env'];
/** Extensions a tool may write. */
const WRITABLE_EXTENSIONS = ['.md', '.txt', '.yaml', '.yml', '.json'];

/** A checked memory path: its parts, and the same parts joined with `/`. */
export interface MemoryPath {
  parts: string[];
  path: string;
}

/** Why a memory path was refused, in words for the model and the operator. */
export class MemoryPathError extends Error {
  readonly code = 'memory_path_refused';
  constructor(path: string, why: string) {
    super(`memory path ${JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path)} refused: ${why}`);
    this.name = 'MemoryPathError';
  }
}

/**
 * Check a path a caller gave for reading.
 * @throws MemoryPathError naming the rule it broke
 */
export function readablePath(raw: string): MemoryPath {
  const parts = splitPath(raw);
  const lower = parts.map((p) => p.toLowerCase());
  const name = lower[lower.length - 1]!;
  if (name === AUDIT_FILE) throw new MemoryPathError(raw, `${AUDIT_FILE} is the audit log; use \`mithai approvals list\``);
  if (isSecretFileName(name)) throw new MemoryPathError(raw, 'it names a secrets, key or credentials file');
  return { parts, path: parts.join('/') };
}

/**
 * Check a path a caller gave for writing: {@link readablePath}'s rules, plus no daily notes and
 * text files only.
 * @throws MemoryPathError naming the rule it broke
 */
export function writablePath(raw: string): MemoryPath {
  const checked = readablePath(raw);
  const lower = checked.parts.map((p) => p.toLowerCase());
  if (lower.length > 1 && lower[0] === 'daily') throw new MemoryPathError(raw, 'daily/ holds the daily notes, which only the runtime writes (ctx.memory.appendDailyNote)');
  if (lower[0] === 'daily' && lower.length === 1) throw new MemoryPathError(raw, 'daily is the daily notes folder');
  const name = lower[lower.length - 1]!;
  if (!WRITABLE_EXTENSIONS.some((ext) => name.endsWith(ext))) throw new MemoryPathError(raw, `only ${WRITABLE_EXTENSIONS.join(', ')} files can be written`);
  return checked;
}

/** Whether a checked path is MEMORY.md at the top (it enters every conversation). */
export function isMemoryMd(path: MemoryPath): boolean {
  return path.parts.length === 1 && path.parts[0]!.toLowerCase() === 'memory.md';
}

function splitPath(raw: string): string[] {
  if (typeof raw !== 'string' || raw === '') throw new MemoryPathError(String(raw), 'it is empty');
  if (raw.length > MAX_PATH_CHARS) throw new MemoryPathError(raw, `it is longer than ${MAX_PATH_CHARS} characters`);
  if (raw.startsWith('/') || raw.includes('\\') || /^[A-Za-z]:/.test(raw)) throw new MemoryPathError(raw, 'it must be relative to the memory folder, with / between parts');
  const parts = raw.split('/');
  if (parts.length > MAX_DEPTH) throw new MemoryPathError(raw, `it has more than ${MAX_DEPTH} parts`);
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw new MemoryPathError(raw, 'empty, "." and ".." parts are not allowed');
    if (part.startsWith('.')) throw new MemoryPathError(raw, 'hidden files and folders (starting with ".") are not allowed');
    if (!PART.test(part)) throw new MemoryPathError(raw, 'use only letters, digits, ".", "_" and "-" in each part');
  }
  return parts;
}

function isSecretFileName(name: string): boolean {
  if (SECRET_FILE_NAMES.has(name)) return true;
  if (/^id_[a-z0-9]+$/.test(name)) return true;
  if (/(^|[._-])env($|[._-])/.test(name) && !name.endsWith('.md')) return true;
  if (/(secret|password|passwd|token)s?(\.|$)/.test(name) && !/\.(md|txt)$/.test(name)) return true;
  return SECRET_EXTENSIONS.some((ext) => name.endsWith(ext));
}
