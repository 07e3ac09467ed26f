// kiln's plans and host executor reproduce diffusers 0.31 on SD 1.5's schedule:
// DDIM 50 steps and DPM-Solver++(2M) 25 steps, timesteps exactly and every
// step's sample within relative L2 1e-5 (golden data in
// ../shared/golden/sched-sd15, made by diffusers itself; see its case.json).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  executePlan,
  fromDiffusersConfig,
  noGuidance,
  parseSchedulerConfigJson,
  plan,
  samplerRows,
  type ModelFunction,
} from '../../samplers/index.js';
import { sigmaTable } from '../../samplers/sigmas.js';
import { goldenPath, readIo, relL2 } from '../support/golden.js';

const GOLDEN = goldenPath('sched-sd15');
const tensors = await readIo('sched-sd15');
const tensor = (name: string) => {
  const t = tensors.get(name);
  assert.ok(t, `golden tensor ${name}`);
  return t;
};
const f32 = Math.fround;

/** case.json's dummy model: eps = ((0.1 * m) * float(t)) / 1000.0, evaluated in float32 left to right. */
const dummyEps: ModelFunction = (m, t) => Float32Array.from(m, (v) => f32(f32(f32(0.1 * v) * f32(t)) / 1000));

function runCase(name: 'ddim50' | 'dpmpp2m25', steps: number) {
  const config = parseSchedulerConfigJson(readFileSync(`${GOLDEN}/${name}/scheduler_config.json`, 'utf8'));
  const setup = fromDiffusersConfig(config);
  const p = plan(samplerRows(setup, steps), noGuidance());
  const inputs: Float64Array[] = [];
  const eps: Float64Array[] = [];
  const trajectory: Float64Array[] = [];
  executePlan(p, {
    latent: Float32Array.from(tensor(`${name}.start_sample`).data),
    model: (m, t, c, ctx) => {
      const out = dummyEps(m, t, c, ctx);
      inputs.push(Float64Array.from(m));
      eps.push(Float64Array.from(out));
      return out;
    },
    onRow: ({ latent }) => trajectory.push(Float64Array.from(latent)),
  });
  return { setup, plan: p, inputs, eps, trajectory };
}

function assertPerStep(actual: Float64Array[], golden: Float64Array, label: string): void {
  const per = golden.length / actual.length;
  actual.forEach((a, i) => {
    const err = relL2(a, golden.subarray(i * per, (i + 1) * per));
    assert.ok(err <= 1e-5, `${label} step ${i}: relative L2 ${err.toExponential(2)} > 1e-5`);
  });
}

test('the SD 1.5 training schedule equals diffusers’ float32 betas and alphas_cumprod bit for bit', () => {
  const config = parseSchedulerConfigJson(readFileSync(`${GOLDEN}/ddim50/scheduler_config.json`, 'utf8'));
  const { schedule } = fromDiffusersConfig(config);
  assert.deepEqual(Array.from(schedule.betas), Array.from(tensor('ddim50.betas_f32').data));
  assert.deepEqual(Array.from(schedule.alphasCumprod), Array.from(tensor('ddim50.alphas_cumprod_f32').data));
  // and it is the float32 rounding of the exact float64 schedule
  assert.ok(relL2(schedule.alphasCumprod, tensor('alphas_cumprod_f64').data) < 1e-6);
});

test('DDIM 50 (leading, steps_offset 1, set_alpha_to_one false) reproduces diffusers’ timesteps and trajectory', () => {
  const run = runCase('ddim50', 50);
  assert.deepEqual(run.plan.rows.map((r) => r.t), Array.from(tensor('ddim50.timesteps').data));
  const finalAlphaBar = tensor('ddim50.final_alpha_cumprod').data[0]!;
  assert.ok(Math.abs(run.plan.final.alpha ** 2 - finalAlphaBar) < 1e-15, 'last step lands on ᾱ₀');
  assertPerStep(run.inputs, tensor('ddim50.model_inputs').data, 'model input');
  assertPerStep(run.eps, tensor('ddim50.eps').data, 'eps');
  assertPerStep(run.trajectory, tensor('ddim50.trajectory').data, 'sample');
});

test('DPM-Solver++(2M) 25 (linspace, final sigma zero, lower_order_final) reproduces diffusers’ timesteps, sigmas and trajectory', () => {
  const run = runCase('dpmpp2m25', 25);
  assert.deepEqual(run.plan.rows.map((r) => r.t), Array.from(tensor('dpmpp2m25.timesteps').data));
  const sigmas = [...run.plan.rows.map((r) => r.level.sigma / r.level.alpha), run.plan.final.sigma / run.plan.final.alpha];
  const goldenSigmas = tensor('dpmpp2m25.sigmas').data;
  sigmas.forEach((s, i) => assert.ok(Math.abs(s - goldenSigmas[i]!) <= 1e-15 * goldenSigmas[i]!, `σ̃[${i}] = ${s}, diffusers ${goldenSigmas[i]}`));
  assert.ok(relL2(sigmaTable(run.setup.schedule.alphasCumprod).map((s) => 1 / Math.sqrt(s * s + 1)), tensor('dpmpp2m25.alpha_t').data) < 1e-6);
  assertPerStep(run.inputs, tensor('dpmpp2m25.model_inputs').data, 'model input');
  assertPerStep(run.eps, tensor('dpmpp2m25.eps').data, 'eps');
  assertPerStep(run.trajectory, tensor('dpmpp2m25.trajectory').data, 'sample');
});

test('the DPM-Solver config with -Infinity parses, and lambda_min_clipped = -∞ clips nothing', () => {
  const config = parseSchedulerConfigJson(readFileSync(`${GOLDEN}/dpmpp2m25/scheduler_config.json`, 'utf8'));
  assert.equal(config['lambda_min_clipped'], -Infinity);
  assert.deepEqual(parseSchedulerConfigJson('{"a": "-Infinity", "b": [NaN, Infinity]}'), { a: '-Infinity', b: [NaN, Infinity] });
});
