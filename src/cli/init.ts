/**
 * `mithai init [DIR]`: scaffold a project. Every prompt has a flag; with --yes, or with no
 * terminal on stdin, the defaults are taken without asking. Nothing is overwritten without
 * --force, and the check happens before anything is written, so a refused init writes nothing.
 * `.env` is never overwritten (it holds secrets): missing names are appended instead.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { projectTsconfig } from '../skills/skill-typecheck.ts';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';

const TEMPLATES = fileURLToPath(new URL('../../templates/init/', import.meta.url));
const GITIGNORE_LINES = ['.env', '.mithai/', 'memory/approvals.json', 'memory/daily/'];

interface InitOptions {
  yes?: boolean;
  force?: boolean;
  botName?: string;
  model?: string;
  respond?: string;
}

interface Answers {
  bot_name: string;
  model: string;
  respond: 'mentions' | 'all';
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
    .action(async (dir: string, options: InitOptions) => {
      const root = resolve(dir);
      const answers = await ask(options);
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
        ].join('\n'),
      );
      exit.code = 0;
    });
}

async function ask(options: InitOptions): Promise<Answers> {
  const defaults = { bot_name: options.botName ?? 'mithai', model: options.model ?? 'claude-sonnet-4-6', respond: options.respond ?? 'mentions' };
  let answers = { ...defaults };
  const interactive = !options.yes && process.stdin.isTTY;
  if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      if (!options.botName) answers.bot_name = (await rl.question(`Bot name [${defaults.bot_name}]: `)).trim() || defaults.bot_name;
      if (!options.model) answers.model = (await rl.question(`Anthropic model [${defaults.model}]: `)).trim() || defaults.model;
      if (!options.respond) answers.respond = (await rl.question(`Answer in Slack to "mentions" or "all" messages [${defaults.respond}]: `)).trim() || defaults.respond;
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
    ['config.yaml', fill(readTemplate('config.yaml'))],
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
