#!/usr/bin/env node
// Entry point of the `mithai` command. The runtime ships as TypeScript and runs through tsx,
// so neither mithai nor the operator's TypeScript skills need a build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
  process.stderr.write(`mithai: Node.js >= 20.18 is required (found ${process.versions.node})\n`);
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
