/**
 * Pipeline benchmark: start-up (load + compile) and per-step time of a pipeline in-process, and the wall time of
 * `kiln generate` from a cold process (25 DPM-Solver++ steps, CFG 7.5) — once with Mesa's shader cache as it is
 * (warm after the first run on a machine) and once with it disabled (every shader compiled from scratch).
 *
 *   npx tsx bench/pipeline.ts [--model kiln-shapes|PATH] [--steps 25] [--skip-cli]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadPipeline } from '../models/pipeline/index.js';
import { Device } from '../runtime/device.js';
import { median, report } from './report.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const model = arg('--model', 'kiln-shapes');
const steps = Number(arg('--steps', '25'));
const prompt = 'a large red circle at the top left';
const rows: Record<string, string | number>[] = [];

const dev = await Device.open();
const t0 = performance.now();
const pipe = await loadPipeline(model, { device: dev });
const loadMs = performance.now() - t0;
const runs: { compileMs: number; denoiseMs: number; decodeMs: number; totalMs: number }[] = [];
for (let i = 0; i < 3; i++) {
  const r = await pipe.generate({ prompt, steps, sampler: 'dpmpp-2m', guidance: 7.5, seed: i });
  runs.push(r.timings);
}
const perStep = median(runs.slice(1).map((r) => r.denoiseMs / steps));
rows.push({
  what: `in-process ${model}`, 'load ms': loadMs, 'first compile ms': runs[0].compileMs, 'step ms (median)': perStep,
  'decode ms': median(runs.slice(1).map((r) => r.decodeMs)), 'image ms (warm)': median(runs.slice(1).map((r) => r.totalMs)),
});
pipe.destroy();
dev.destroy();

if (!args.includes('--skip-cli')) {
  const out = join(mkdtempSync(join(tmpdir(), 'kiln-bench-')), 'x.png');
  for (const [what, env] of [['CLI cold process, shader cache warm', {}], ['CLI cold process, shader cache disabled', { MESA_SHADER_CACHE_DISABLE: 'true' }]] as const) {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['bin/kiln.mjs', 'generate', '--model', model, '--prompt', prompt, '--steps', String(steps), '--sampler', 'dpmpp-2m', '--guidance', '7.5', '--seed', '1', '--out', out],
      { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`kiln generate failed: ${r.stderr}`);
    rows.push({ what, 'wall s': (performance.now() - t) / 1000, detail: r.stdout.trim().split('\n').pop() ?? '' });
  }
}
report(`pipeline-${basename(model)}`, dev.description, rows, { model, steps, sampler: 'dpmpp-2m', guidance: 7.5 });
