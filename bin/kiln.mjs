#!/usr/bin/env node
// The `kiln` command. Dawn prints adapter warnings straight to stderr from native code; the CLI runs in a
// child process whose stderr is filtered, so users see them only with --verbose (or KILN_DAWN_LOG=1).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli.js');

if (process.env.KILN_CLI_CHILD) {
  let mod;
  if (existsSync(built)) mod = await import(pathToFileURL(built).href);
  else {
    const { register } = await import('tsx/esm/api');
    register();
    mod = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href);
  }
  process.exitCode = await mod.main(process.argv);
} else {
  const showDawn = process.argv.includes('--verbose') || process.env.KILN_DAWN_LOG === '1';
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, KILN_CLI_CHILD: '1' },
  });
  let pending = '';
  child.stderr.on('data', (chunk) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!showDawn && /^Warning: .*artificially reduced/.test(line)) continue;
      process.stderr.write(`${line}\n`);
    }
  });
  child.on('close', (code, signal) => {
    if (pending) process.stderr.write(pending);
    process.exit(code ?? (signal ? 1 : 0));
  });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
}
