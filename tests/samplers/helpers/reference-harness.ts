// What the stateful-reference comparisons share: the non-linear test model, the schedule arbitrary, a step-by-step
// trajectory comparison, and row building that skips (and counts) the configurations kiln refuses.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { noGuidance, plan, type PredictionType, type SamplerRows } from '../../../samplers/index.js';
import { PlanError, SamplerOptionsError } from '../../../samplers/errors.js';
import type { RefModel } from './reference-schedulers.js';

/** A smooth non-linear model whose output depends on the input, the timestep and the element. */
export const testModel: RefModel = (u, t) => Float64Array.from(u, (v, i) => 0.8 * Math.tanh(v) + 0.15 * Math.sin(0.003 * t + 0.7 * i));

export const scheduleArb = fc.record({
  betaSchedule: fc.constantFrom('linear' as const, 'scaled_linear' as const, 'squaredcos_cap_v2' as const),
  betaStart: fc.double({ min: 0.0001, max: 0.002, noNaN: true }),
  betaEnd: fc.double({ min: 0.01, max: 0.03, noNaN: true }),
  numTrainTimesteps: fc.integer({ min: 200, max: 1000 }),
  predictionType: fc.constantFrom<PredictionType>('epsilon', 'v_prediction', 'sample'),
});

/** Every step of `actual` within relative L2 1e-9 of the reference's. */
export function assertSameSteps(actual: Float64Array[], expected: Float64Array[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: number of steps`);
  expected.forEach((e, step) => {
    const a = actual[step]!;
    let num = 0;
    let den = 0;
    e.forEach((v, i) => {
      num += (a[i]! - v) ** 2;
      den += v * v;
    });
    const rel = Math.sqrt(num / den);
    assert.ok(rel < 1e-9, `${label}: step ${step} differs by ${rel.toExponential(2)} relative`);
  });
}

/**
 * Row building that skips configurations kiln refuses: documented diffusers quirks and strengths that leave no
 * step (SamplerOptionsError), and steps where diffusers' own arithmetic is not finite (PlanError, e.g. a
 * zero-length last step with Karras σ_min = final σ). `attempts` counts both, for the file's "not passing by
 * skipping" check.
 */
export function skippingRefused() {
  const attempts = { built: 0, skipped: 0 };
  function rowsOrSkip(build: () => SamplerRows): SamplerRows | undefined {
    try {
      const rows = build();
      plan(rows, noGuidance());
      attempts.built++;
      return rows;
    } catch (e) {
      if (e instanceof SamplerOptionsError || (e instanceof PlanError && /finite coefficients/.test(e.message))) {
        attempts.skipped++;
        return undefined;
      }
      throw e;
    }
  }
  return { attempts, rowsOrSkip };
}
