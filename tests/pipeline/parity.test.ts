// A generation on the device follows, latent for latent, the trajectory that the same plan gives through the
// samplers' host executor with the float64 evaluator as the model; seeds give PyTorch's initial latents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../../models/pipeline/index.js';
import { type Plan, executePlan, torchRandn, TorchGenerator } from '../../samplers/index.js';
import { relL2 } from '../support/golden.js';
import { openTestDevice } from '../support/gpu.js';
import { hostModel } from '../support/host-model.js';
import { assembleTinyPipeline } from '../support/tiny-pipeline.js';

const device = await openTestDevice();
const pipe = await loadPipeline(assembleTinyPipeline(), { device, autotune: false });
const c = pipe.components;
const LATENT = [1, 4, 16, 16];

async function compare(sampler: string, guidance: string, steps: number, seed: number) {
  const deviceLatents: Float32Array[] = [];
  let plan: Plan | undefined;
  const r = await pipe.generate({ prompt: 'a red circle', negativePrompt: 'blue', steps, sampler, guidance, seed, onLatent: (_, l) => void deviceLatents.push(l) });
  plan = r.plan;
  const model = hostModel(c, LATENT, { cond: 'a red circle', uncond: 'blue' });
  const gen = new TorchGenerator(BigInt(seed));
  const z = gen.randn(LATENT);
  const hostLatents: Float64Array[] = [];
  executePlan(plan, { latent: Float64Array.from(z, (v) => v * plan!.initNoiseSigma), shape: LATENT, model, noise: gen, onRow: (tr) => void hostLatents.push(Float64Array.from(tr.latent)) });
  assert.equal(deviceLatents.length, plan.rows.length);
  return deviceLatents.map((d, i) => relL2(d, hostLatents[i]));
}

test('device trajectory = host executor + float64 evaluator, row by row (DPM-Solver++ 2M, CFG 7.5; rel-L2 < 1e-4)', async () => {
  const errors = await compare('dpmpp-2m', 'cfg:7.5', 3, 7);
  assert.ok(errors.every((e) => e < 1e-4), `per-row rel-L2: ${errors.map((e) => e.toExponential(2)).join(', ')}`);
});

test('ancestral noise continues the seed\'s PyTorch stream on the device too (Euler ancestral, CFG rescale; rel-L2 < 1e-4)', async () => {
  const errors = await compare('euler-a', 'cfg:5,rescale:0.7', 2, 11);
  assert.ok(errors.every((e) => e < 1e-4), `per-row rel-L2: ${errors.map((e) => e.toExponential(2)).join(', ')}`);
});

test('a seed\'s initial latent is torch.manual_seed(seed); torch.randn(shape), bit for bit', async () => {
  // Derived with: torch.manual_seed(42); torch.randn(1,4,16,16).flatten() → first four, last two (Debian torch 1.13.1).
  const expected = { head: [1.9269152879714966, 1.4872840642929077, 0.9007171988487244, -2.1055209636688232], tail: [0.5544233322143555, 1.5817502737045288] };
  const z = torchRandn(42, LATENT);
  assert.deepEqual([...z.subarray(0, 4)], expected.head);
  assert.deepEqual([...z.subarray(-2)], expected.tail);
  const r = await pipe.generate({ prompt: 'x', steps: 1, sampler: 'ddim', guidance: 'none', seed: 42 });
  assert.equal(r.plan.initNoiseSigma, 1);
  assert.deepEqual([...r.initialLatent], [...z]);
});
