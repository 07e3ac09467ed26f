// Error paths of the pipeline layer that need no generation: each has its type and a message that says what was
// expected and what was found.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConditioningError, ModelPathError, UnsupportedRowError, loadComponents, rowStructure, substituteEos } from '../../models/pipeline/index.js';
import type { PlanRow } from '../../samplers/index.js';

test('a plan row with dynamic thresholding is refused by the device executor, naming the host executor', () => {
  const row = { branches: ['cond'], clip: { kind: 'dynamic', ratio: 0.995, maxValue: 1 } } as unknown as PlanRow;
  assert.throws(() => rowStructure(row, 0), (e: Error) => e instanceof UnsupportedRowError && /dynamic thresholding .* use the host executor/.test(e.message));
});

test('a single-file checkpoint without a pipeline folder for its configs is a ModelPathError that says what to pass', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-single-'));
  const file = join(dir, 'model.safetensors');
  writeFileSync(file, Buffer.alloc(16));
  await assert.rejects(loadComponents(file), (e: Error) => e instanceof ModelPathError && /pass configFrom \(CLI: --config DIR\), a folder with model_index\.json/.test(e.message));
  await assert.rejects(loadComponents(join(dir, 'weights.bin')), (e: Error) => e instanceof ModelPathError && /not found: expected a built-in name/.test(e.message));
  await assert.rejects(loadComponents(dir), (e: Error) => e instanceof ModelPathError && /is not a diffusers pipeline folder \(no model_index\.json\)/.test(e.message));
});

test('[EOS] substitution needs an end token in both prompts', () => {
  const a = { data: new Float32Array(8).fill(1), eosIndex: -1 }, b = { data: new Float32Array(8).fill(2), eosIndex: 1 };
  assert.throws(() => substituteEos(a, b, 4, 2), (e: Error) => e instanceof ConditioningError && /needs both prompts to have an end token/.test(e.message));
});

test('CLI usage errors are one line, exit code 2, and write nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-usage-'));
  const run = (...args: string[]) => spawnSync(process.execPath, ['bin/kiln.mjs', 'generate', '--prompt', 'x', ...args], { encoding: 'utf8', timeout: 120_000 });
  const jpg = run('--out', join(dir, 'x.jpg'));
  assert.equal(jpg.status, 2);
  assert.deepEqual(jpg.stderr.trim().split('\n'), [`kiln: UsageError: --out must name a .png file, found '${join(dir, 'x.jpg')}'`]);
  const noDir = run('--out', join(dir, 'missing', 'x.png'));
  assert.equal(noDir.status, 2);
  assert.match(noDir.stderr.trim(), /^kiln: UsageError: --out: folder '.*missing' does not exist$/);
  const cond = run('--out', join(dir, 'y.png'), '--cond', 'no-equals-sign', '--steps', '1');
  assert.equal(cond.status, 2);
  assert.deepEqual(cond.stderr.trim().split('\n'), ["kiln: UsageError: --cond expects NAME=TEXT, found 'no-equals-sign'"]);
  assert.ok(!existsSync(join(dir, 'y.png')));
});
