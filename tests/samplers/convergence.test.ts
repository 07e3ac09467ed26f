// On Gaussian data N(μ, s²·I) the ideal denoiser and the probability-flow ODE
// solution are closed-form (helpers/gaussian.ts), so every deterministic
// sampler's error against the exact solution is pure discretisation error:
// it must vanish as the step count grows, at the sampler's nominal order.
//
// Order = least-squares slope of log(max error) against log(steps) over
// 20, 40, 80, 160 steps; margin ±0.3 around the nominal order. Measured on this
// ladder (SD 1.5 schedule): DDIM 0.97, Euler 0.96, Heun 2.00, DPM-Solver++(2M)
// 2.02 (uniform λ) / 2.09 (Karras), DPM-Solver(2M) 2.03, UniPC-2 bh2 3.08
// (its corrector adds an order), UniPC-2 without corrector 2.09.
//
// The λ-based multistep solvers are measured on a spacing whose λ-steps all
// shrink (uniform λ or Karras). On diffusers' default 'linspace' spacing in t
// the last steps have λ-steps of fixed size (λ ≈ −½·log t near t = 0, and the
// last timesteps stand in ratio 1:2:3), so their O(h³) local errors, scaled by
// the O(1/N) variation of x̂₀ there, give O(1/N) global error: the solver still
// converges, at order ≈ 1 — checked separately below.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ddim,
  dpmSolverMultistep,
  dpmSolverPP2M,
  euler,
  executePlan,
  heun,
  noGuidance,
  noiseSchedule,
  plan,
  sd15Schedule,
  unipc,
  type NoiseSchedule,
  type SamplerRows,
} from '../../samplers/index.js';
import { convergenceOrder, exactSolution, idealModel, type GaussianData } from './helpers/gaussian.js';

const LADDER = [20, 40, 80, 160];
const MARGIN = 0.3;

function maxError(rows: SamplerRows, schedule: NoiseSchedule, data: GaussianData, z: readonly number[]): number {
  const p = plan(rows, noGuidance());
  const xT = Float64Array.from(z, (v) => v * p.initNoiseSigma);
  const out = executePlan(p, { latent: xT, model: idealModel(data, schedule.predictionType) });
  const exact = exactSolution(p, xT, data);
  return Math.max(...Array.from(out, (v, i) => Math.abs(v - exact[i]!)));
}

const deterministicSamplers: { name: string; order: number; rows: (s: NoiseSchedule, n: number) => SamplerRows }[] = [
  { name: 'DDIM (leading, offset 1)', order: 1, rows: (s, n) => ddim(s, n, { clipSample: false, setAlphaToOne: false, stepsOffset: 1 }) },
  { name: 'Euler', order: 1, rows: (s, n) => euler(s, n) },
  { name: 'Heun', order: 2, rows: (s, n) => heun(s, n) },
  { name: 'DPM-Solver++(2M), uniform λ', order: 2, rows: (s, n) => dpmSolverMultistep(s, n, { useLuLambdas: true }) },
  { name: 'DPM-Solver++(2M) Karras', order: 2, rows: (s, n) => dpmSolverMultistep(s, n, { useKarrasSigmas: true }) },
  { name: 'DPM-Solver++(2M) heun-type, uniform λ', order: 2, rows: (s, n) => dpmSolverMultistep(s, n, { useLuLambdas: true, solverType: 'heun' }) },
  {
    name: 'DPM-Solver(2M), noise prediction, uniform λ',
    order: 2,
    rows: (s, n) => dpmSolverMultistep(s, n, { useLuLambdas: true, algorithmType: 'dpmsolver', finalSigmasType: 'sigma_min' }),
  },
  { name: 'UniPC-2 bh2 (predictor + corrector), Karras', order: 3, rows: (s, n) => unipc(s, n, { useKarrasSigmas: true }) },
  { name: 'UniPC-2 bh2 on ε, Karras', order: 3, rows: (s, n) => unipc(s, n, { useKarrasSigmas: true, predictX0: false }) },
  {
    name: 'UniPC-2 predictor only (corrector disabled), Karras',
    order: 2,
    rows: (s, n) => unipc(s, n, { useKarrasSigmas: true, disableCorrector: Array.from({ length: n }, (_, i) => i) }),
  },
];

const schedules: { name: string; schedule: NoiseSchedule }[] = [
  { name: 'SD 1.5 (scaled_linear, ε)', schedule: sd15Schedule },
  { name: 'linear, v-prediction', schedule: noiseSchedule({ predictionType: 'v_prediction' }) },
];

for (const { name: scheduleName, schedule } of schedules) {
  for (const sampler of deterministicSamplers) {
    test(`${sampler.name} converges to the exact PF-ODE solution at order ${sampler.order} ± ${MARGIN} (${scheduleName})`, () => {
      fc.assert(
        fc.property(
          fc.record({
            mean: fc.double({ min: -1, max: 1, noNaN: true }),
            std: fc.double({ min: 0.3, max: 1.2, noNaN: true }),
            z: fc.array(fc.double({ min: -2.5, max: 2.5, noNaN: true }), { minLength: 3, maxLength: 3 }),
          }),
          ({ mean, std, z }) => {
            const data = { mean, std };
            // Points far from the data mean make the error visible above float64 noise.
            const latent = [...z, 2.7, -2.9];
            const errors = LADDER.map((n) => maxError(sampler.rows(schedule, n), schedule, data, latent));
            const order = convergenceOrder(LADDER, errors);
            assert.ok(errors[errors.length - 1]! < 0.05, `error at ${LADDER.at(-1)} steps is ${errors.at(-1)}`);
            assert.ok(Math.abs(order - sampler.order) <= MARGIN, `measured order ${order.toFixed(2)} from errors ${errors.map((e) => e.toExponential(2)).join(', ')}`);
          },
        ),
        { numRuns: 3, seed: 20240601 },
      );
    });
  }
}

test('DPM-Solver++(2M) on diffusers’ default linspace spacing converges, at order ≈ 1 for the reason stated above', () => {
  const data = { mean: 0.4, std: 0.7 };
  const z = [-1.7, -0.3, 0.2, 1.1, 2.3];
  const ladder = [40, 80, 160, 320];
  const errors = ladder.map((n) => maxError(dpmSolverPP2M(sd15Schedule, n), sd15Schedule, data, z));
  errors.slice(1).forEach((e, i) => assert.ok(e < errors[i]!, `error grows from ${errors[i]} to ${e}`));
  const order = convergenceOrder(ladder, errors);
  assert.ok(order > 0.7 && order < 1.5, `order ${order}`);
});
