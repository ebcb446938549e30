/**
 * `mithai init [DIR]`: scaffold a project. Every prompt has a flag; with --yes, or with no
 * terminal on stdin, the defaults are taken without asking. Nothing is overwritten without
 * --force, and the check happens before anything is written, so a refused init writes nothing.
 * `.env` is never overwritten (it holds secrets): missing names are appended instead.
 * The answer to "Should confirm calls need a second person?" is written into config.yaml as
 * `human.confirm_requires_second_person` (default yes; `--no-confirm-second-person` for a solo setup).
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { projectTsconfig } from '../skills/skill-typecheck.ts';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';

const TEMPLATES = fileURLToPath(new URL('../../templates/init/', import.meta.url));
const GITIGNORE_LINES = ['.env', '.mithai/', 'memory/approvals.json', 'memory/daily/'];

/** The flags of `mithai init`. */
export interface InitOptions {
  yes?: boolean;
  force?: boolean;
  botName?: string;
  model?: string;
  respond?: string;
  /** `--confirm-second-person` / `--no-confirm-second-person`; undefined when neither was given. */
  confirmSecondPerson?: boolean;
}

/** What init writes into the project. */
export interface Answers {
  bot_name: string;
  model: string;
  respond: 'mentions' | 'all';
  /** `human.confirm_requires_second_person` (default true). */
  confirm_requires_second_person?: boolean;
}

/** Where the questions are asked (the process's terminal, or a test's streams). */
export interface InitIo {
  input: Readable;
  output: Writable;
  /** Ask at all (a terminal on stdin); otherwise the flags and defaults are taken. */
  interactive: boolean;
}

export function registerInit(program: Command, exit: ExitCode): void {
  program
    .command('init')
    .argument('[dir]', 'project folder', '.')
    .description('scaffold a mithai project: config.yaml, .env, memory/, an example skill, slack-manifest.yaml')
    .option('-y, --yes', 'take every default without asking')
    .option('-f, --force', 'overwrite existing files (never .env)')
    .option('--bot-name <name>', 'the bot name', undefined)
    .option('--model <model>', 'the Anthropic model', undefined)
    .option('--respond <mode>', 'answer "mentions" only, or "all" channel messages', undefined)
    .option('--confirm-second-person', 'confirm calls need someone other than the requester (the default)')
    .option('--no-confirm-second-person', 'a solo setup: the requester may confirm their own confirm calls')
    .action(async (dir: string, options: InitOptions) => {
      const root = resolve(dir);
      const answers = await askAnswers(options, { input: process.stdin, output: process.stdout, interactive: !options.yes && process.stdin.isTTY === true });
      const written = initProject(root, answers, Boolean(options.force));
      process.stdout.write(
        [
          `Created a mithai project in ${root}:`,
          ...written.map((f) => `  ${f}`),
          '',
          'Next:',
          `  1. Put your Anthropic key in ${join(relative(process.cwd(), root) || '.', '.env')} (ANTHROPIC_API_KEY=...)`,
          '  2. mithai chat            talk to the agent in this terminal',
          '  3. For Slack: create the app from slack-manifest.yaml, add SLACK_BOT_TOKEN and SLACK_APP_TOKEN to .env, then mithai run',
          '',
          answers.confirm_requires_second_person !== false
            ? 'Confirm calls need a second person (human.confirm_requires_second_person: true in config.yaml): list who may confirm in human.approvers, or set it to false if you work alone.'
            : 'Confirm calls may be confirmed by the person who asked (human.confirm_requires_second_person: false in config.yaml, a solo setup).',
          '',
        ].join('\n'),
      );
      exit.code = 0;
    });
}

/**
 * The answers: each flag given wins, the rest are asked when `io.interactive`, else defaulted.
 * @throws ConfigError for an answer init cannot use (a bad bot name, model or respond mode).
 */
export async function askAnswers(options: InitOptions, io: InitIo): Promise<Answers> {
  const defaults = {
    bot_name: options.botName ?? 'mithai',
    model: options.model ?? 'claude-sonnet-4-6',
    respond: options.respond ?? 'mentions',
    // Confirm is for what a second human should review: on unless the operator says otherwise.
    confirm_requires_second_person: options.confirmSecondPerson ?? true,
  };
  let answers = { ...defaults };
  if (io.interactive) {
    const rl = createInterface({ input: io.input, output: io.output });
    try {
      if (!options.botName) answers.bot_name = (await rl.question(`Bot name [${defaults.bot_name}]: `)).trim() || defaults.bot_name;
      if (!options.model) answers.model = (await rl.question(`Anthropic model [${defaults.model}]: `)).trim() || defaults.model;
      if (!options.respond) answers.respond = (await rl.question(`Answer in Slack to "mentions" or "all" messages [${defaults.respond}]: `)).trim() || defaults.respond;
      if (options.confirmSecondPerson === undefined) answers.confirm_requires_second_person = await askYesNo(rl, io.output, 'Should confirm calls need a second person? [Y/n]: ', true);
    } finally {
      rl.close();
    }
  }
  answers = { ...answers, bot_name: answers.bot_name.trim() };
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$/.test(answers.bot_name)) throw new ConfigError(`--bot-name "${answers.bot_name}": use letters, digits, spaces, '.', '_' or '-' (at most 80)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(answers.model)) throw new ConfigError(`--model "${answers.model}" is not a model name`);
  if (answers.respond !== 'mentions' && answers.respond !== 'all') throw new ConfigError(`--respond must be "mentions" or "all", not "${answers.respond}"`);
  return answers as Answers;
}

/** Ask a yes/no question until the answer is one; an empty answer is `byDefault`. */
async function askYesNo(rl: ReturnType<typeof createInterface>, output: Writable, question: string, byDefault: boolean): Promise<boolean> {
  for (;;) {
    const answer = (await rl.question(question)).trim().toLowerCase();
    if (answer === '') return byDefault;
    if (answer === 'y' || answer === 'yes') return true;
    if (answer === 'n' || answer === 'no') return false;
    output.write('Please answer y or n.\n');
  }
}

/**
 * config.yaml with `human.confirm_requires_second_person` set to the answer: the template's
 * placeholder or line when it has one, else a line added under `human:` (or a `human:` block).
 */
export function withConfirmSetting(config: string, value: boolean): string {
  const text = config.replaceAll('{{confirm_requires_second_person}}', String(value));
  // The value on the template's line (whatever it was), keeping any comment after it.
  const line = /^([ \t]+confirm_requires_second_person:)[ \t]*[^\s#]*/m;
  if (line.test(text)) return text.replace(line, `$1 ${String(value)}`);
  const entry = `  confirm_requires_second_person: ${String(value)}   # a confirm call needs someone other than the requester; false for a solo setup\n`;
  if (/^human:[ \t]*\n/m.test(text)) return text.replace(/^human:[ \t]*\n/m, (m) => `${m}${entry}`);
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}human:\n${entry}`;
}

/**
 * Write the project files into `root`. Returns the paths written (relative to root).
 * @throws ConfigError when files exist and `force` is false (nothing is written then).
 */
export function initProject(root: string, answers: Answers, force: boolean): string[] {
  const fill = (text: string): string =>
    text
      .replaceAll('{{bot_name}}', answers.bot_name)
      .replaceAll('{{model}}', answers.model)
      .replaceAll('{{respond}}', answers.respond)
      // message.im is always subscribed (DMs always work); `respond: all` adds channel messages.
      .replaceAll('{{message_events}}', answers.respond === 'all' ? '      - message.channels\n      - message.groups' : '');
  const files: Array<[string, string]> = [
    ['config.yaml', withConfirmSetting(fill(readTemplate('config.yaml')), answers.confirm_requires_second_person ?? true)],
    ['.env.example', readTemplate('env.example')],
    ['memory/MEMORY.md', readTemplate('MEMORY.md')],
    ['skills/example/SKILL.md', readTemplate('skills/example/SKILL.md')],
    ['skills/example/tools.ts', readTemplate('skills/example/tools.ts')],
    ['slack-manifest.yaml', fill(readTemplate('slack-manifest.yaml')).replace(/\n\n/g, '\n')],
    // So an editor resolves `import … from 'mithai'` in a project without node_modules.
    ['tsconfig.json', projectTsconfig()],
  ];
  const existing = files.filter(([path]) => existsSync(join(root, path))).map(([path]) => path);
  if (existing.length > 0 && !force) {
    throw new ConfigError(`${root} already has ${existing.join(', ')}; nothing was written. Use --force to overwrite (.env is never overwritten).`, { code: 'init_exists' });
  }
  const written: string[] = [];
  for (const [path, text] of files) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written.push(path);
  }
  written.push(writeEnv(root));
  if (updateGitignore(root)) written.push('.gitignore');
  return written;
}

function readTemplate(name: string): string {
  return readFileSync(join(TEMPLATES, name), 'utf8');
}

/** Create .env (0600) or append the names it lacks; never touch values already there. */
function writeEnv(root: string): string {
  const path = join(root, '.env');
  const names = readTemplate('env.example')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => l.split('=')[0]!);
  if (!existsSync(path)) {
    writeFileSync(path, `# Secrets for mithai (mode 0600; never commit this file)\n${names.map((n) => `${n}=`).join('\n')}\n`, { mode: 0o600 });
  } else {
    const text = readFileSync(path, 'utf8');
    const missing = names.filter((n) => !new RegExp(`^\\s*(export\\s+)?${n}=`, 'm').test(text));
    if (missing.length > 0) appendFileSync(path, `${text.endsWith('\n') || text === '' ? '' : '\n'}${missing.map((n) => `${n}=`).join('\n')}\n`);
  }
  chmodSync(path, 0o600);
  return '.env';
}

/** Append the lines mithai needs to .gitignore, creating it if needed, never duplicating. */
function updateGitignore(root: string): boolean {
  const path = join(root, '.gitignore');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const present = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !present.has(l) && !present.has(`/${l}`));
  if (missing.length === 0) return false;
  const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
  appendFileSync(path, `${prefix}${text === '' ? '' : '\n'}# mithai: secrets and runtime state\n${missing.join('\n')}\n`);
  return true;
}
