// kiln's plan rows, executed by the host executor, take the same steps as
// step-by-step re-statements of diffusers' schedulers (helpers/
// reference-schedulers.ts: model-output lists, lower_order_nums, UniPC's
// last_sample and corrector, Heun's two-stage state) on an arbitrary non-linear
// model, for random schedules, step counts and options. The plan's registers
// and folded corrector must therefore be exactly the reference's state machine.
// Tolerance: relative 1e-9 per step (float64 on both sides; only the order of
// operations differs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ddim,
  ddpm,
  dpmSolverMultistep,
  euler,
  eulerAncestral,
  executePlan,
  heun,
  noGuidance,
  noiseSchedule,
  plan,
  TorchGenerator,
  unipc,
  type NoiseSchedule,
  type Plan,
} from '../../samplers/index.js';
import {
  refDdim,
  refDdpm,
  refDpmSolver,
  refEuler,
  refEulerAncestral,
  refHeun,
  refUniPc,
} from './helpers/reference-schedulers.js';
import { assertSameSteps, scheduleArb, skippingRefused, testModel } from './helpers/reference-harness.js';

const SIZE = 24;

function startLatent(seed: number): Float64Array {
  return Float64Array.from(new TorchGenerator(seed).randn([SIZE]));
}

function runPlan(p: Plan, seed: number): Float64Array[] {
  const steps: Float64Array[] = [];
  const generator = new TorchGenerator(seed + 1);
  executePlan(p, {
    latent: Float64Array.from(startLatent(seed), (v) => v * p.initNoiseSigma),
    model: (u, t) => testModel(Float64Array.from(u), t),
    noise: (n) => Float64Array.from(generator.randn([n])),
    onRow: ({ latent }) => steps.push(Float64Array.from(latent)),
  });
  return steps;
}

function referenceNoise(seed: number): () => Float64Array {
  const generator = new TorchGenerator(seed + 1);
  return () => Float64Array.from(generator.randn([SIZE]));
}

const { attempts, rowsOrSkip } = skippingRefused();

test.after(() => {
  // The comparisons above must not pass by skipping: most drawn configurations are valid.
  assert.ok(attempts.skipped < attempts.built / 4, `skipped ${attempts.skipped} configurations, compared ${attempts.built}`);
});

const sigmasOf = (p: Plan) => [...p.rows.map((r) => r.level.sigma / r.level.alpha), p.final.sigma / p.final.alpha];

test('DDIM rows take diffusers DDIMScheduler’s steps (η, clipping, spacings, prediction types)', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 60 }),
      fc.constantFrom(0, 0.3, 1),
      fc.boolean(),
      fc.constantFrom('leading' as const, 'trailing' as const, 'linspace' as const),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      (sc, steps, eta, clip, spacing, setAlphaToOne, seed) => {
        const schedule = noiseSchedule(sc);
        const rows = rowsOrSkip(() => ddim(schedule, steps, { eta, clipSample: clip, clipSampleRange: 0.8, timestepSpacing: spacing, setAlphaToOne }));
        if (!rows) return;
        const p = plan(rows, noGuidance());
        const expected = refDdim(
          {
            alphasCumprod: schedule.alphasCumprod,
            timesteps: p.rows.map((r) => r.t),
            numTrainTimesteps: schedule.numTrainTimesteps,
            finalAlphaCumprod: setAlphaToOne ? 1 : schedule.alphasCumprod[0]!,
            eta,
            clipSample: clip ? 0.8 : null,
            predictionType: sc.predictionType,
          },
          testModel,
          startLatent(seed),
          referenceNoise(seed),
        );
        assertSameSteps(runPlan(p, seed), expected, 'ddim');
      },
    ),
    { numRuns: 40, seed: 1 },
  );
});

test('DDPM rows take diffusers DDPMScheduler’s ancestral steps, drawing noise exactly when t > 0', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 60 }),
      fc.boolean(),
      fc.constantFrom('leading' as const, 'trailing' as const, 'linspace' as const),
      fc.integer({ min: 0, max: 1000 }),
      (sc, steps, clip, spacing, seed) => {
      const schedule = noiseSchedule(sc);
      const rows = rowsOrSkip(() => ddpm(schedule, steps, { clipSample: clip, clipSampleRange: 0.8, timestepSpacing: spacing }));
      if (!rows) return;
      const p = plan(rows, noGuidance());
      const expected = refDdpm(
        { alphasCumprod: schedule.alphasCumprod, timesteps: p.rows.map((r) => r.t), clipSample: clip ? 0.8 : null, predictionType: sc.predictionType },
        testModel,
        startLatent(seed),
        referenceNoise(seed),
      );
      assertSameSteps(runPlan(p, seed), expected, 'ddpm');
    },
    ),
    { numRuns: 30, seed: 2 },
  );
});

test('Euler (with and without churn) and Euler ancestral rows take diffusers’ steps', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 50 }),
      fc.constantFrom(0, 0.5, 40),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      (sc, steps, churn, karras, seed) => {
        const schedule = noiseSchedule(sc);
        const rows = rowsOrSkip(() => euler(schedule, steps, { sChurn: churn, useKarrasSigmas: karras }));
        if (!rows) return;
        const p = plan(rows, noGuidance());
        const grid = { timesteps: p.rows.map((r) => r.t), sigmas: sigmasOf(p), predictionType: sc.predictionType };
        assertSameSteps(runPlan(p, seed), refEuler({ ...grid, sChurn: churn }, testModel, Float64Array.from(startLatent(seed), (v) => v * p.initNoiseSigma), referenceNoise(seed)), 'euler');
        const a = rowsOrSkip(() => eulerAncestral(schedule, steps));
        if (!a) return;
        const pa = plan(a, noGuidance());
        const gridA = { timesteps: pa.rows.map((r) => r.t), sigmas: sigmasOf(pa), predictionType: sc.predictionType };
        assertSameSteps(runPlan(pa, seed), refEulerAncestral(gridA, testModel, Float64Array.from(startLatent(seed), (v) => v * pa.initNoiseSigma), referenceNoise(seed)), 'euler ancestral');
      },
    ),
    { numRuns: 30, seed: 3 },
  );
});

test('Heun rows (two stages per step, the last step one) take HeunDiscreteScheduler’s steps', () => {
  fc.assert(
    fc.property(scheduleArb, fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1000 }), (sc, steps, karras, clip, seed) => {
      const schedule = noiseSchedule(sc);
      const rows = rowsOrSkip(() => heun(schedule, steps, { useKarrasSigmas: karras, clipSample: clip, clipSampleRange: 0.8 }));
      if (!rows) return;
      const p = plan(rows, noGuidance());
      assert.equal(p.rows.length, 2 * steps - 1);
      const stepSigmas = [...p.rows.filter((r) => r.stage === 0).map((r) => r.level.sigma), 0];
      const grid = { timesteps: p.rows.filter((r) => r.stage === 0).map((r) => r.t), sigmas: stepSigmas, predictionType: sc.predictionType };
      const expected = refHeun({ ...grid, clipSample: clip ? 0.8 : null }, testModel, Float64Array.from(startLatent(seed), (v) => v * p.initNoiseSigma));
      assertSameSteps(runPlan(p, seed), expected, 'heun');
    }),
    { numRuns: 30, seed: 4 },
  );
});

test('DPM-Solver rows (every algorithm, order, solver type, Karras, thresholding) take DPMSolverMultistepScheduler’s steps', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom('dpmsolver++' as const, 'dpmsolver' as const, 'sde-dpmsolver++' as const, 'sde-dpmsolver' as const),
      fc.constantFrom(1, 2, 3),
      fc.constantFrom('midpoint' as const, 'heun' as const),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      (sc, steps, algorithm, order, solverType, karras, lowerOrderFinal, threshold, seed) => {
        const sde = algorithm.startsWith('sde');
        const finalZero = algorithm === 'dpmsolver++' || algorithm === 'sde-dpmsolver++';
        const solverOrder = sde ? Math.min(order, 2) : order;
        const schedule = noiseSchedule(sc);
        const rows = rowsOrSkip(() =>
          dpmSolverMultistep(schedule, steps, {
            algorithmType: algorithm,
            solverOrder,
            solverType,
            useKarrasSigmas: karras,
            lowerOrderFinal,
            finalSigmasType: finalZero ? 'zero' : 'sigma_min',
            thresholding: threshold,
            sampleMaxValue: 1.5,
            dynamicThresholdingRatio: 0.9,
          }),
        );
        if (!rows) return;
        const p = plan(rows, noGuidance());
        const grid = { timesteps: p.rows.map((r) => r.t), sigmas: sigmasOf(p), predictionType: sc.predictionType };
        const expected = refDpmSolver(
          { ...grid, algorithm, order: solverOrder, solverType, lowerOrderFinal, eulerAtFinal: false, finalZero, thresholding: threshold ? { ratio: 0.9, maxValue: 1.5 } : null },
          testModel,
          startLatent(seed),
          referenceNoise(seed),
        );
        assertSameSteps(runPlan(p, seed), expected, `${algorithm} order ${solverOrder}`);
      },
    ),
    { numRuns: 60, seed: 5 },
  );
});

test('UniPC rows (corrector folded into the next row) take UniPCMultistepScheduler’s steps for orders 1–3, bh1/bh2, x0/ε, disabled correctors', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom(1, 2, 3),
      fc.constantFrom('bh1' as const, 'bh2' as const),
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 5 }),
      fc.integer({ min: 0, max: 1000 }),
      (sc, steps, order, variant, predictX0, lowerOrderFinal, disableCorrector, seed) => {
        const schedule = noiseSchedule(sc);
        const rows = rowsOrSkip(() =>
          unipc(schedule, steps, { solverOrder: order, solverType: variant, predictX0, lowerOrderFinal, disableCorrector, finalSigmasType: variant === 'bh1' || !predictX0 ? 'sigma_min' : 'zero' }),
        );
        if (!rows) return;
        const p = plan(rows, noGuidance());
        const grid = { timesteps: p.rows.map((r) => r.t), sigmas: sigmasOf(p), predictionType: sc.predictionType };
        const expected = refUniPc({ ...grid, order, variant, predictX0, lowerOrderFinal, disableCorrector }, testModel, startLatent(seed));
        assertSameSteps(runPlan(p, seed), expected, `unipc ${variant} order ${order}`);
      },
    ),
    { numRuns: 60, seed: 6 },
  );
});

test('a sampler’s rows are a pure function of (schedule, steps, options)', () => {
  const schedule: NoiseSchedule = noiseSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
  assert.deepEqual(unipc(schedule, 17, { solverOrder: 3 }), unipc(schedule, 17, { solverOrder: 3 }));
  assert.notDeepEqual(unipc(schedule, 17, { solverOrder: 3 }), unipc(schedule, 17, { solverOrder: 2 }));
});
