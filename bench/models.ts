/**
 * Model benchmark: compile time and per-forward time of the tiny golden models (CLIP, UNet, VAE decoder) and
 * of a full-size SD 1.5 UNet graph with random weights at 64×64 latents (batch 1, one forward).
 *
 *   npx tsx bench/models.ts [--skip-full] [--runs N]
 */
import { type Tensor, input, instantiate } from '../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../models/clip/index.js';
import { SD15_UNET } from '../models/configs/index.js';
import { unet2DConditionModel, unetConfig } from '../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../models/vae/index.js';
import { loadDiffusersComponent, readComponentConfig } from '../models/weights/index.js';
import { compile, type CompileOptions } from '../runtime/compile.js';
import { Device } from '../runtime/device.js';
import { median, report } from './report.js';

const args = process.argv.slice(2);
const RUNS = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const GOLDEN = process.env.KILN_GOLDEN ?? new URL('../../shared/golden', import.meta.url).pathname;
const dev = await Device.open();
const rows: Record<string, string | number>[] = [];
const det = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(0.1 * i));

async function measure(name: string, outputs: Tensor[], feeds: Record<string, ArrayLike<number>>, o: CompileOptions, runs = RUNS) {
  const t0 = performance.now();
  const exe = await compile(dev, outputs, o);
  const compileMs = performance.now() - t0;
  exe.setInputs(feeds);
  const first = performance.now();
  await exe.run({}, { read: false });
  const firstMs = performance.now() - first;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await exe.run({}, { read: false });
    times.push(performance.now() - t);
  }
  rows.push({ model: name, dispatches: exe.stats.dispatches, 'compile ms': compileMs, 'first run ms': firstMs, 'forward ms (median)': median(times),
    'activations MB': exe.stats.peakBufferBytes / 2 ** 20, 'weights MB': exe.stats.weightBytes / 2 ** 20 });
  console.log(`${name}: compile ${compileMs.toFixed(0)} ms, forward ${median(times).toFixed(1)} ms`);
  exe.destroy();
}

{
  const c = clipTextConfig(await readComponentConfig(`${GOLDEN}/clip-tiny`, 'text_encoder'));
  const def = clipTextModel(c);
  const w = await loadDiffusersComponent(`${GOLDEN}/clip-tiny/text_encoder`, def);
  const out = instantiate(def)(input('ids', [1, 77], 'i32'));
  await measure('clip-tiny [1,77]', [out.conditioning], { ids: Array.from({ length: 77 }, (_, i) => (i * 7) % 1000) }, { weights: w, autotune: true });
}
{
  const c = unetConfig(await readComponentConfig(`${GOLDEN}/unet-sd15-tiny`, 'unet'));
  const def = unet2DConditionModel(c);
  const w = await loadDiffusersComponent(`${GOLDEN}/unet-sd15-tiny/unet`, def);
  const out = instantiate(def)(input('x', [2, 4, 16, 16]), input('t', [2]), input('ctx', [2, 77, 32]));
  await measure('unet-sd15-tiny [2,4,16,16]', [out], { x: det(2048), t: [999, 999], ctx: det(2 * 77 * 32) }, { weights: w, autotune: true });
}
{
  const c = vaeConfig(await readComponentConfig(`${GOLDEN}/vae-tiny`, 'vae'));
  const def = autoencoderKL(c);
  const w = await loadDiffusersComponent(`${GOLDEN}/vae-tiny/vae`, def);
  const out = instantiate(def)().decode(input('z', [1, 4, 16, 16]));
  await measure('vae-tiny decode [1,4,16,16]', [out], { z: det(1024) }, { weights: w, autotune: true });
}
if (!args.includes('--skip-full')) {
  // Random weights from one shared pool: values only need to be finite and small for a timing.
  const pool = Float32Array.from({ length: 1 << 22 }, (_, i) => 0.02 * Math.sin(i * 12.9898));
  const weights = (_: string, shape: readonly (number | string)[]) => {
    const n = shape.reduce<number>((a, d) => a * (d as number), 1);
    const out = new Float32Array(n);
    for (let o = 0; o < n; o += pool.length) out.set(pool.subarray(0, Math.min(pool.length, n - o)), o);
    return out;
  };
  const def = unet2DConditionModel(unetConfig(SD15_UNET));
  const out = instantiate(def)(input('x', [1, 4, 64, 64]), input('t', [1]), input('ctx', [1, 77, 768]));
  await measure('SD 1.5 UNet [1,4,64,64] random weights', [out], { x: det(4 * 64 * 64), t: [500], ctx: det(77 * 768) }, { weights, autotune: false }, 1);
}
report('models', dev.description, rows);
dev.destroy();
