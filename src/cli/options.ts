/**
 * Options every command shares, and config loading for commands.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load-config.ts';
import { rememberSecrets } from './printable.ts';

export const DEFAULT_CONFIG = './config.yaml';

/** Add `--config PATH` to a command. */
export function withConfigOption(command: Command): Command {
  return command.option('-c, --config <path>', 'path to config.yaml', DEFAULT_CONFIG);
}

/** Load the config named by `--config`; its secrets are redacted from every failure printed after. */
export function loadFromOptions(options: { config?: string }): LoadedConfig {
  const loaded = loadConfig(resolve(options.config ?? DEFAULT_CONFIG));
  rememberSecrets(loaded.secrets);
  return loaded;
}
