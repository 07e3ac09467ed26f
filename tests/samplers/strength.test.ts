// Image-to-image runs (strength s): the rows are diffusers' get_timesteps +
// set_begin_index run — the last min(⌊N·s⌋, N) steps of the full grid, taken by
// a freshly reset scheduler — and `start.level` is its add_noise level at the
// first timestep. The trajectories are compared with the step-by-step
// reference schedulers (helpers/reference-schedulers.ts, with `begin`) on a
// non-linear model; tolerance relative 1e-9 per step, as stateful-reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  addNoise,
  cfg,
  ddim,
  ddpm,
  deserializePlan,
  dpmSolverMultistep,
  euler,
  eulerAncestral,
  executePlan,
  formatPlan,
  fromDiffusersConfig,
  heun,
  noGuidance,
  noiseSchedule,
  plan,
  samplerRows,
  serializePlan,
  TorchGenerator,
  unipc,
  type Plan,
  type SamplerRows,
} from '../../samplers/index.js';
import { PlanFormatError, SamplerOptionsError } from '../../samplers/errors.js';
import { refDdim, refDdpm, refDpmSolver, refEuler, refEulerAncestral, refHeun, refUniPc } from './helpers/reference-schedulers.js';
import { assertSameSteps, scheduleArb, skippingRefused, testModel } from './helpers/reference-harness.js';

const SIZE = 16;
const strengthArb = fc.double({ min: 0.02, max: 1, noNaN: true });

const CLASSES = ['DDIMScheduler', 'DDPMScheduler', 'EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'HeunDiscreteScheduler', 'DPMSolverMultistepScheduler', 'UniPCMultistepScheduler'];
const SD15 = { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1, clip_sample: false };

const { attempts, rowsOrSkip } = skippingRefused();
test.after(() => assert.ok(attempts.skipped < attempts.built / 3, `skipped ${attempts.skipped} configurations, compared ${attempts.built}`));

const startLatent = (seed: number) => Float64Array.from(new TorchGenerator(seed).randn([SIZE]));
const referenceNoise = (seed: number) => {
  const g = new TorchGenerator(seed + 1);
  return () => Float64Array.from(g.randn([SIZE]));
};

/** The plan's latents per row, from x (partial runs start from a given latent, not initNoiseSigma·z). */
function runPlan(p: Plan, seed: number): Float64Array[] {
  const out: Float64Array[] = [];
  const g = new TorchGenerator(seed + 1);
  executePlan(p, {
    latent: startLatent(seed),
    model: (u, t) => testModel(Float64Array.from(u), t),
    noise: (n) => Float64Array.from(g.randn([n])),
    onRow: ({ latent }) => out.push(Float64Array.from(latent)),
  });
  return out;
}

const kept = (N: number, s: number) => Math.min(Math.floor(N * s), N);
const sigmasOf = (p: SamplerRows) => [...p.rows.filter((r) => r.stage === 0).map((r) => r.level.sigma / r.level.alpha), p.final.sigma / p.final.alpha];

test('strength 1 gives exactly the full run, for every scheduler class', () => {
  fc.assert(
    fc.property(fc.constantFrom(...CLASSES), fc.integer({ min: 1, max: 30 }), fc.constantFrom('leading', 'trailing', 'linspace'), (as, N, spacing) => {
      const setup = fromDiffusersConfig({ ...SD15, timestep_spacing: spacing }, { as });
      const full = rowsOrSkip(() => samplerRows(setup, N));
      if (!full) return;
      const { start, ...rest } = samplerRows(setup, N, { strength: 1 });
      assert.deepEqual(rest, full);
      assert.deepEqual(start, { strength: 1, fullSteps: N, skippedSteps: 0, level: full.rows[0]!.level });
      const { start: _s, ...restPlan } = plan(samplerRows(setup, N, { strength: 1 }), cfg(7.5));
      assert.deepEqual(restPlan, plan(full, cfg(7.5)));
    }),
    { numRuns: 60, seed: 11 },
  );
});

test('a partial run keeps the last min(⌊N·s⌋, N) steps; stateless samplers keep the full rows, coefficient for coefficient', () => {
  fc.assert(
    fc.property(fc.constantFrom(...CLASSES), fc.integer({ min: 1, max: 30 }), strengthArb, (as, N, s) => {
      const setup = fromDiffusersConfig(SD15, { as });
      const full = rowsOrSkip(() => samplerRows(setup, N));
      if (!full) return;
      if (kept(N, s) === 0) {
        assert.throws(() => samplerRows(setup, N, { strength: s }), (e: Error) => e instanceof SamplerOptionsError && /must be ≥ 1/.test(e.message));
        return;
      }
      const part = samplerRows(setup, N, { strength: s });
      const skip = N - kept(N, s);
      assert.equal(part.steps, kept(N, s));
      assert.deepEqual(part.start, { strength: s, fullSteps: N, skippedSteps: skip, level: part.rows[0]!.level });
      const firstKept = full.rows.findIndex((r) => r.step === skip);
      assert.equal(part.rows[0]!.t, full.rows[firstKept]!.t);
      assert.deepEqual(part.rows[0]!.level, full.rows[firstKept]!.level);
      assert.deepEqual(part.final, full.final);
      assert.equal(part.initNoiseSigma, full.initNoiseSigma);
      if (!/DPMSolver|UniPC/.test(as)) {
        const tail = full.rows.slice(firstKept).map((r) => ({ ...r, step: r.step - skip }));
        assert.deepEqual(part.rows, tail);
      } else {
        assert.deepEqual(part.rows[0]!.update.history, [], 'a fresh multistep state reads no earlier prediction on its first row');
      }
    }),
    { numRuns: 120, seed: 12 },
  );
});

test('partial DDIM / DDPM rows take a fresh DDIMScheduler / DDPMScheduler’s steps from the begin index', () => {
  fc.assert(
    fc.property(scheduleArb, fc.integer({ min: 1, max: 40 }), strengthArb, fc.constantFrom(0, 0.5), fc.constantFrom('leading' as const, 'trailing' as const, 'linspace' as const), fc.integer({ min: 0, max: 1000 }), (sc, N, s, eta, spacing, seed) => {
      const schedule = noiseSchedule(sc);
      const full = rowsOrSkip(() => ddim(schedule, N, { eta, clipSample: false, timestepSpacing: spacing, setAlphaToOne: false }));
      const part = rowsOrSkip(() => ddim(schedule, N, { eta, clipSample: false, timestepSpacing: spacing, setAlphaToOne: false, strength: s }));
      if (!full || !part) return;
      const begin = part.start!.skippedSteps;
      const c = { alphasCumprod: schedule.alphasCumprod, timesteps: full.rows.map((r) => r.t), numTrainTimesteps: schedule.numTrainTimesteps, finalAlphaCumprod: schedule.alphasCumprod[0]!, eta, clipSample: null, predictionType: sc.predictionType, begin };
      assertSameSteps(runPlan(plan(part, noGuidance()), seed), refDdim(c, testModel, startLatent(seed), referenceNoise(seed)), 'ddim');
      const t = full.rows[begin]!.t;
      assert.deepEqual(part.start!.level, { alpha: Math.sqrt(schedule.alphasCumprod[t]!), sigma: Math.sqrt(1 - schedule.alphasCumprod[t]!) }, 'add_noise: √ᾱ_t·x0 + √(1 − ᾱ_t)·ε');

      const fullP = rowsOrSkip(() => ddpm(schedule, N, { clipSample: false, timestepSpacing: spacing }));
      const partP = rowsOrSkip(() => ddpm(schedule, N, { clipSample: false, timestepSpacing: spacing, strength: s }));
      if (!fullP || !partP) return;
      const cp = { alphasCumprod: schedule.alphasCumprod, timesteps: fullP.rows.map((r) => r.t), clipSample: null, predictionType: sc.predictionType, begin };
      assertSameSteps(runPlan(plan(partP, noGuidance()), seed), refDdpm(cp, testModel, startLatent(seed), referenceNoise(seed)), 'ddpm');
    }),
    { numRuns: 25, seed: 13 },
  );
});

test('partial Euler (with churn), Euler ancestral and Heun rows take a fresh scheduler’s steps; Heun keeps its stage pairs', () => {
  fc.assert(
    fc.property(scheduleArb, fc.integer({ min: 1, max: 30 }), strengthArb, fc.constantFrom(0, 40), fc.boolean(), fc.integer({ min: 0, max: 1000 }), (sc, N, s, churn, karras, seed) => {
      const schedule = noiseSchedule(sc);
      const full = rowsOrSkip(() => euler(schedule, N, { sChurn: churn, useKarrasSigmas: karras }));
      const part = rowsOrSkip(() => euler(schedule, N, { sChurn: churn, useKarrasSigmas: karras, strength: s }));
      if (!full || !part) return;
      const begin = part.start!.skippedSteps;
      const grid = { timesteps: full.rows.map((r) => r.t), sigmas: sigmasOf(full), predictionType: sc.predictionType, begin };
      assertSameSteps(runPlan(plan(part, noGuidance()), seed), refEuler({ ...grid, sChurn: churn }, testModel, startLatent(seed), referenceNoise(seed)), 'euler');
      // add_noise in σ̃-space: x0 + σ̃·ε, with no init_noise_sigma.
      assert.deepEqual(part.start!.level, { alpha: 1, sigma: grid.sigmas[begin]! });

      const fullA = rowsOrSkip(() => eulerAncestral(schedule, N));
      const partA = rowsOrSkip(() => eulerAncestral(schedule, N, { strength: s }));
      if (fullA && partA) {
        const gridA = { timesteps: fullA.rows.map((r) => r.t), sigmas: sigmasOf(fullA), predictionType: sc.predictionType, begin };
        assertSameSteps(runPlan(plan(partA, noGuidance()), seed), refEulerAncestral(gridA, testModel, startLatent(seed), referenceNoise(seed)), 'euler ancestral');
      }

      const fullH = rowsOrSkip(() => heun(schedule, N, { useKarrasSigmas: karras }));
      const partH = rowsOrSkip(() => heun(schedule, N, { useKarrasSigmas: karras, strength: s }));
      if (!fullH || !partH) return;
      assert.equal(partH.rows.length, 2 * partH.steps - 1);
      const gridH = { timesteps: fullH.rows.filter((r) => r.stage === 0).map((r) => r.t), sigmas: sigmasOf(fullH), predictionType: sc.predictionType, begin: 2 * begin };
      assertSameSteps(runPlan(plan(partH, noGuidance()), seed), refHeun({ ...gridH, clipSample: null }, testModel, startLatent(seed)), 'heun');
      assert.deepEqual(partH.start!.level, { alpha: 1, sigma: gridH.sigmas[begin]! });
    }),
    { numRuns: 25, seed: 14 },
  );
});

test('partial DPM-Solver rows start a fresh multistep history (first order first) but keep the full run’s lower-order-final rules', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 30 }),
      strengthArb,
      fc.constantFrom('dpmsolver++' as const, 'dpmsolver' as const, 'sde-dpmsolver++' as const, 'sde-dpmsolver' as const),
      fc.constantFrom(1, 2, 3),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      (sc, N, s, algorithm, order, karras, lowerOrderFinal, seed) => {
        const sde = algorithm.startsWith('sde');
        const finalZero = algorithm === 'dpmsolver++' || algorithm === 'sde-dpmsolver++';
        const solverOrder = sde ? Math.min(order, 2) : order;
        const schedule = noiseSchedule(sc);
        const o = { algorithmType: algorithm, solverOrder, useKarrasSigmas: karras, lowerOrderFinal, finalSigmasType: finalZero ? ('zero' as const) : ('sigma_min' as const) };
        const full = rowsOrSkip(() => dpmSolverMultistep(schedule, N, o));
        const part = rowsOrSkip(() => dpmSolverMultistep(schedule, N, { ...o, strength: s }));
        if (!full || !part) return;
        const begin = part.start!.skippedSteps;
        const grid = { timesteps: full.rows.map((r) => r.t), sigmas: sigmasOf(full), predictionType: sc.predictionType, begin };
        const expected = refDpmSolver({ ...grid, algorithm, order: solverOrder, solverType: 'midpoint', lowerOrderFinal, eulerAtFinal: false, finalZero, thresholding: null }, testModel, startLatent(seed), referenceNoise(seed));
        assertSameSteps(runPlan(plan(part, noGuidance()), seed), expected, `${algorithm} order ${solverOrder}`);
        // add_noise: the VP level (α, σ) of σ̃ at the begin index.
        const { alpha, sigma } = part.start!.level;
        assert.ok(Math.abs(alpha * alpha + sigma * sigma - 1) < 1e-12 && Math.abs(sigma / alpha - grid.sigmas[begin]!) < 1e-12 * grid.sigmas[begin]!);
      },
    ),
    { numRuns: 40, seed: 15 },
  );
});

test('partial UniPC rows start fresh (no corrector on the first row, orders from 1) for orders 1–3, bh1/bh2, disabled correctors', () => {
  fc.assert(
    fc.property(
      scheduleArb,
      fc.integer({ min: 1, max: 30 }),
      strengthArb,
      fc.constantFrom(1, 2, 3),
      fc.constantFrom('bh1' as const, 'bh2' as const),
      fc.boolean(),
      fc.array(fc.integer({ min: 0, max: 29 }), { maxLength: 4 }),
      fc.integer({ min: 0, max: 1000 }),
      (sc, N, s, order, variant, lowerOrderFinal, disableCorrector, seed) => {
        const schedule = noiseSchedule(sc);
        const o = { solverOrder: order, solverType: variant, lowerOrderFinal, disableCorrector, finalSigmasType: variant === 'bh1' ? ('sigma_min' as const) : ('zero' as const) };
        const full = rowsOrSkip(() => unipc(schedule, N, o));
        const part = rowsOrSkip(() => unipc(schedule, N, { ...o, strength: s }));
        if (!full || !part) return;
        const grid = { timesteps: full.rows.map((r) => r.t), sigmas: sigmasOf(full), predictionType: sc.predictionType, begin: part.start!.skippedSteps };
        const expected = refUniPc({ ...grid, order, variant, predictX0: true, lowerOrderFinal, disableCorrector }, testModel, startLatent(seed));
        assertSameSteps(runPlan(plan(part, noGuidance()), seed), expected, `unipc ${variant} order ${order}`);
      },
    ),
    { numRuns: 40, seed: 16 },
  );
});

test('at strength 1 the start is pure noise only where the schedule reaches ᾱ = 0 (zero terminal SNR, trailing); SD 1.5’s keeps √ᾱ of the image', () => {
  const zeroSnr = fromDiffusersConfig({ ...SD15, rescale_betas_zero_snr: true, timestep_spacing: 'trailing', prediction_type: 'v_prediction', steps_offset: 0 }, { as: 'DDIMScheduler' });
  const z = samplerRows(zeroSnr, 10, { strength: 1 });
  assert.equal(z.start!.level.alpha, 0);
  assert.equal(z.start!.level.sigma, 1);
  const noise = Float32Array.from(new TorchGenerator(3).randn([SIZE]));
  assert.deepEqual(addNoise(z.start!.level, Float32Array.from({ length: SIZE }, (_, i) => i), noise), noise);
  const sd = samplerRows(fromDiffusersConfig(SD15, { as: 'DDIMScheduler' }), 10, { strength: 1 });
  assert.equal(sd.rows[0]!.t, 901);
  assert.ok(sd.start!.level.alpha > 0.1, `√ᾱ_901 = ${sd.start!.level.alpha}`);
  // Euler's add_noise uses σ̃, not init_noise_sigma = √(σ̃² + 1) (leading spacing).
  const eu = samplerRows(fromDiffusersConfig({ ...SD15, timestep_spacing: 'leading' }, { as: 'EulerDiscreteScheduler' }), 10, { strength: 1 });
  assert.equal(eu.start!.level.sigma, eu.rows[0]!.level.sigma);
  assert.ok(eu.initNoiseSigma > eu.start!.level.sigma);
});

test('bad strengths fail with a SamplerOptionsError that names the option; inversion refuses a strength', () => {
  const setup = fromDiffusersConfig(SD15, { as: 'DPMSolverMultistepScheduler' });
  for (const s of [0, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0.5' as unknown as number]) {
    assert.throws(
      () => samplerRows(setup, 10, { strength: s }),
      (e: Error) => e instanceof SamplerOptionsError && e.option === 'strength' && /option 'strength': expected a number in \(0, 1\]/.test(e.message),
      `strength ${String(s)}`,
    );
  }
  assert.throws(() => samplerRows(setup, 4, { strength: 0.2 }), /at least 1\/4 with 4 steps \(⌊4·strength⌋ must be ≥ 1/);
  assert.throws(() => samplerRows(fromDiffusersConfig(SD15, { as: 'DDIMInverseScheduler' }), 10, { strength: 0.5 }), /ddim-inverse: option 'strength'/);
});

test('guidance specs count the steps of the shortened run; plans with a start survive JSON and print it', () => {
  const rows = samplerRows(fromDiffusersConfig(SD15, { as: 'DDIMScheduler' }), 10, { strength: 0.5 });
  assert.equal(rows.steps, 5);
  const p = plan(rows, cfg(7.5).dropFrom(3, { keep: 'uncond' }));
  assert.deepEqual(p.rows.map((r) => r.branches), [['uncond', 'cond'], ['uncond', 'cond'], ['uncond', 'cond'], ['uncond'], ['uncond']]);
  assert.deepEqual(p.modelEvaluations.perStep, [2, 2, 2, 1, 1]);
  assert.throws(() => plan(rows, cfg(Array(10).fill(7.5))), /5 scales, one per step/);
  assert.deepEqual(deserializePlan(serializePlan(p)), p);
  assert.throws(() => deserializePlan(serializePlan({ ...p, start: { ...p.start!, skippedSteps: 4 } })), PlanFormatError);
  assert.match(formatPlan(p), /strength 0\.5: steps 5–9 of 10, x_start = 0\.\d+·x0 \+ 0\.\d+·z/);
});

test('addNoise repeats one clean latent over a batch and checks lengths', () => {
  const x = addNoise({ alpha: 0.5, sigma: 2 }, [1, 2], [10, 20, 30, 40]);
  assert.deepEqual([...x], [20.5, 41, 60.5, 81]);
  assert.throws(() => addNoise({ alpha: 1, sigma: 1 }, [1, 2, 3], [1, 2, 3, 4]), SamplerOptionsError);
});
