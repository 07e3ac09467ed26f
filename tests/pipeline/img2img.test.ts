// Image-to-image (diffusers' StableDiffusionImg2ImgPipeline) on the golden tiny pipeline: the start latent is the
// VAE encoder's sample with the seed's first draw, noised with its second draw to the first kept timestep; from
// there the device follows, row by row, the host executor with the float64 evaluator as the model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode, encode } from 'fast-png';
import { evaluate, input, instantiate } from '../../dsl/index.js';
import { GenerateOptionsError, imageToNchw, loadPipeline } from '../../models/pipeline/index.js';
import { autoencoderKL } from '../../models/vae/index.js';
import { SamplerOptionsError, TorchGenerator, executePlan, type Plan } from '../../samplers/index.js';
import { relL2 } from '../support/golden.js';
import { openTestDevice } from '../support/gpu.js';
import { hostModel } from '../support/host-model.js';
import { assembleTinyPipeline } from '../support/tiny-pipeline.js';

const device = await openTestDevice();
const pipe = await loadPipeline(assembleTinyPipeline(), { device, autotune: false });
const c = pipe.components;
const SIZE = 32;
const LATENT = [1, 4, 16, 16];

/** A smooth RGB test image in [0, 1], HWC, float32. */
const picture = (phase: number) => Float32Array.from({ length: SIZE * SIZE * 3 }, (_, i) => Math.fround(0.5 + 0.45 * Math.sin(0.05 * i + phase) * Math.cos(0.11 * Math.floor(i / 3 / SIZE))));

/** diffusers' prepare_latents in float64: encoder (evaluator) → sample with ε₁ → ·scaling_factor → add_noise with ε₂. */
function hostStart(image: Float32Array, plan: Plan, gen: TorchGenerator): { latent: Float64Array; start: Float64Array } {
  const vae = instantiate(autoencoderKL(c.vae.config))();
  const { mean, logvar } = vae.encode(input('image', [1, 3, SIZE, SIZE]));
  const [m, lv] = evaluate([mean, logvar], { ...Object.fromEntries(c.vae.weights), image: imageToNchw(image, SIZE, SIZE) });
  const eps1 = gen.randn(LATENT);
  const latent = Float64Array.from(m, (v, i) => (v + Math.exp(0.5 * lv[i]) * eps1[i]) * c.vae.config.scaling_factor);
  const eps2 = gen.randn(LATENT);
  const { alpha, sigma } = plan.start!.level;
  return { latent, start: Float64Array.from(latent, (v, i) => alpha * v + sigma * eps2[i]) };
}

async function compare(sampler: string, guidance: string, steps: number, strength: number, seed: number) {
  const image = picture(0.3);
  const deviceLatents: Float32Array[] = [];
  const r = await pipe.generate({ prompt: 'a red circle', negativePrompt: 'blue', steps, strength, image, sampler, guidance, seed, onLatent: (_, l) => void deviceLatents.push(l) });
  const gen = new TorchGenerator(BigInt(seed));
  const host = hostStart(image, r.plan, gen);
  const hostLatents: Float64Array[] = [];
  executePlan(r.plan, { latent: host.start, shape: LATENT, model: hostModel(c, LATENT, { cond: 'a red circle', uncond: 'blue' }), noise: gen, onRow: (tr) => void hostLatents.push(Float64Array.from(tr.latent)) });
  assert.equal(deviceLatents.length, r.plan.rows.length);
  return { r, startErrors: [relL2(r.imageLatent!, host.latent), relL2(r.initialLatent, host.start)], rowErrors: deviceLatents.map((d, i) => relL2(d, hostLatents[i])) };
}

const fmt = (xs: number[]) => xs.map((e) => e.toExponential(2)).join(', ');

test('img2img start latent = float64 encoder + the seed’s two draws, and the trajectory = host executor (DPM-Solver++ 2M, no guidance, strength 0.5; rel-L2 < 1e-4)', async (t) => {
  const { r, startErrors, rowErrors } = await compare('dpmpp-2m', 'none', 6, 0.5, 7);
  t.diagnostic(`start rel-L2 ${fmt(startErrors)}; per-row ${fmt(rowErrors)}`);
  assert.equal(r.plan.steps, 3);
  assert.deepEqual(r.plan.start && { full: r.plan.start.fullSteps, skipped: r.plan.start.skippedSteps }, { full: 6, skipped: 3 });
  assert.deepEqual(r.evaluations.map((e) => e.batch), [1, 1, 1]);
  assert.equal(r.parameters.strength, '0.5');
  assert.equal(r.parameters.steps, '6');
  assert.ok(startErrors.every((e) => e < 1e-5), `image latent, start latent rel-L2: ${fmt(startErrors)}`);
  assert.ok(rowErrors.every((e) => e < 1e-4), `per-row rel-L2: ${fmt(rowErrors)}`);
});

test('ancestral noise after the two start draws continues the seed’s stream (Euler ancestral, no guidance, strength 0.6)', async (t) => {
  const { r, startErrors, rowErrors } = await compare('euler-a', 'none', 5, 0.6, 11);
  t.diagnostic(`start rel-L2 ${fmt(startErrors)}; per-row ${fmt(rowErrors)}`);
  assert.equal(r.plan.steps, 3);
  assert.ok(startErrors.every((e) => e < 1e-5), `image latent, start latent rel-L2: ${fmt(startErrors)}`);
  assert.ok(rowErrors.every((e) => e < 1e-4), `per-row rel-L2: ${fmt(rowErrors)}`);
});

test('strength 1 runs the text-to-image plan’s rows from add_noise(image latent): the image still counts with weight α of the first timestep', async () => {
  // diffusers does the same: at strength 1 the start is α_T·latent + σ_T·ε₂, pure noise only where the schedule
  // reaches ᾱ = 0 (zero terminal SNR; see tests/samplers/strength.test.ts). Euler's add_noise uses σ̃, not init_noise_sigma.
  const base = { prompt: 'x', steps: 1, strength: 1, sampler: 'euler-a', guidance: 'none', seed: 5 } as const;
  const a = await pipe.generate({ ...base, image: picture(0.3) });
  const b = await pipe.generate({ ...base, image: picture(2.1) });
  const { start: _s, ...rest } = a.plan;
  assert.deepEqual(rest, pipe.plan({ steps: 1, sampler: 'euler-a', guidance: 'none' }));
  const { alpha, sigma } = a.plan.start!.level;
  assert.equal(alpha, 1);
  assert.equal(sigma, a.plan.rows[0].level.sigma);
  const dStart = Float64Array.from(a.initialLatent, (v, i) => v - b.initialLatent[i]);
  const dImage = Float64Array.from(a.imageLatent!, (v, i) => alpha * (v - b.imageLatent![i]));
  assert.ok(relL2(dStart, dImage) < 1e-4, `start difference vs α·(image latent difference): ${relL2(dStart, dImage)}`);
  assert.ok(relL2(a.imageLatent!, b.imageLatent!) > 0.05, 'different images give different latents');
});

test('8-bit images are preprocessed as v/255 then 2x − 1, the alpha channel dropped', () => {
  const data = Uint8Array.from({ length: 8 * 8 * 4 }, (_, i) => (i * 37) % 256);
  const asFloats = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => Math.fround(data[4 * Math.floor(i / 3) + (i % 3)] / 255));
  assert.deepEqual(imageToNchw({ width: 8, height: 8, channels: 4, data }, 8, 8), imageToNchw(asFloats, 8, 8));
  const x = imageToNchw(asFloats, 8, 8);
  assert.equal(x[64], Math.fround(2 * asFloats[1] - 1), 'NCHW: the green plane follows the red one');
});

test('bad image-to-image settings fail with a clear message before anything runs', async () => {
  const image = picture(0);
  const small = { width: 16, height: 16, channels: 3 as const, data: new Uint8Array(16 * 16 * 3) };
  await assert.rejects(pipe.generate({ prompt: 'x', image: small, width: 32, height: 32 }), (e: Error) => e instanceof GenerateOptionsError && /image is 16×16 but the generation is 32×32/.test(e.message));
  await assert.rejects(pipe.generate({ prompt: 'x', image: image.subarray(3) }), /image has 3069 values; a 32×32 RGB image \(HWC\) needs 3072/);
  await assert.rejects(pipe.generate({ prompt: 'x', image: Float32Array.from(image, (v) => v * 2) }), /expected RGB in \[0, 1\]/);
  for (const strength of [0, 1.5, Number.NaN]) {
    await assert.rejects(pipe.generate({ prompt: 'x', image, strength }), (e: Error) => e instanceof GenerateOptionsError && /strength must be a number in \(0, 1\]/.test(e.message), `strength ${strength}`);
  }
  await assert.rejects(pipe.generate({ prompt: 'x', strength: 0.5 }), /strength \(0\.5\) is for image-to-image: pass an image/);
  await assert.rejects(pipe.generate({ prompt: 'x', image, steps: 2, strength: 0.3 }), (e: Error) => e instanceof SamplerOptionsError && /⌊2·strength⌋ must be ≥ 1/.test(e.message));
});

// `kiln generate --image` as a user runs it, in a child process.
const work = mkdtempSync(join(tmpdir(), 'kiln-img2img-'));
const model = assembleTinyPipeline();
const kiln = (...args: string[]) => spawnSync(process.execPath, ['bin/kiln.mjs', 'generate', '--model', model, '--prompt', 'a red circle', ...args], { encoding: 'utf8', timeout: 300_000 });
const writePng = (name: string, size: number) => {
  const file = join(work, name);
  const data = Uint8Array.from({ length: size * size * 4 }, (_, i) => (i % 4 === 3 ? 128 : (i * 29) % 256));
  writeFileSync(file, encode({ width: size, height: size, data, channels: 4, depth: 8 }));
  return file;
};

test('kiln generate --image in.png --strength 0.5 runs the shortened plan and records the strength', () => {
  const out = join(work, 'out.png');
  const r = kiln('--image', writePng('in.png', SIZE), '--strength', '0.5', '--steps', '4', '--seed', '3', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*out\.png \(32×32, seed 3, 4 UNet evaluations/);
  const params = JSON.parse(decode(readFileSync(out)).text.parameters);
  assert.equal(params.strength, '0.5');
  assert.equal(params.steps, '4');
});

for (const [what, args, message] of [
  ['a strength above 1', ['--image', 'x.png', '--strength', '1.5'], /--strength must be a number in \(0, 1\], found '1\.5'/],
  ['a strength without an image', ['--strength', '0.5'], /--strength is for image-to-image: pass --image too/],
  ['an image of another size', ['--image', '16x16.png', '--width', '32', '--height', '32'], /image is 16×16 but the generation is 32×32/],
] as const) {
  test(`kiln generate with ${what} exits non-zero with one clear line`, () => {
    const resolved = args.map((a) => (a === '16x16.png' ? writePng(a, 16) : a));
    const r = kiln(...resolved, '--out', join(work, 'bad.png'));
    assert.notEqual(r.status, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.ok(!existsSync(join(work, 'bad.png')));
  });
}
