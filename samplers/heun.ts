// Heun's 2nd-order method (Karras et al. 2022, Alg. 1 without churn), as
// diffusers' HeunDiscreteScheduler: per step an Euler predictor to σ_next, then
// the model again at σ_next and the trapezoid average of the two slopes; the
// last step, which ends at σ = 0, is a plain Euler step. 2N − 1 evaluations.
//
// As rows: stage 0 is Euler from x_i to x_mid and stores x̂₀⁽¹⁾; stage 1 needs
// x_i, which it recovers from x_mid and the stored x̂₀⁽¹⁾:
//   x_mid = x_i + dt·(x_i − x̂₀⁽¹⁾)/σ  ⇒  x_i = (σ/σ')·x_mid + (dt/σ')·x̂₀⁽¹⁾.

import { assemble, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS } from './clipping.js';
import { earlier, sum, times, type Combination } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import type { SamplerRows } from './plan.js';
import { conversions } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import { sigmaGrid, sigmaSpaceInputScale, type SigmaSpaceOptions } from './sigma-space.js';
import type { StrengthOptions } from './strength.js';

export interface HeunOptions extends Pick<SigmaSpaceOptions, 'timestepSpacing' | 'stepsOffset' | 'useKarrasSigmas'>, StrengthOptions {
  /** Default false. */
  readonly clipSample?: boolean;
  readonly clipSampleRange?: number;
}

export function heun(schedule: NoiseSchedule, steps: number, o: HeunOptions = {}): SamplerRows {
  const name = o.useKarrasSigmas ? 'heun (karras)' : 'heun';
  if (schedule.config.rescaleBetasZeroSnr) {
    throw new SamplerOptionsError(name, 'schedule.rescaleBetasZeroSnr', 'false (HeunDiscreteScheduler has no zero-terminal-SNR support)', true);
  }
  const grid = sigmaGrid(name, schedule, steps, { timestepSpacing: o.timestepSpacing, stepsOffset: o.stepsOffset, useKarrasSigmas: o.useKarrasSigmas });
  const clip = clipOp(name, { clipSample: o.clipSample, clipSampleRange: o.clipSampleRange }, false, X0_MAPS);
  const drafts: RowDraft[] = [];
  const row = (step: number, stage: number, t: number, sigma: number, update: Combination): RowDraft => {
    const cIn = sigmaSpaceInputScale(sigma);
    const conv = conversions(schedule.predictionType, { alpha: 1, sigma }, cIn);
    return { step, stage, t, level: { alpha: 1, sigma }, cIn, denoise: conv.x0, predict: { kind: 'x0', ...conv.x0 }, ...(clip ? { clip } : {}), update };
  };
  for (let i = 0; i < steps; i++) {
    const sigma = grid.sigmas[i]!;
    const next = grid.sigmas[i + 1]!;
    const dt = next - sigma;
    drafts.push(row(i, 0, grid.timesteps[i]!, sigma, { x: 1 + dt / sigma, P: -dt / sigma }));
    if (next === 0) continue;
    // x' = x_i + (dt/2)·[(x_i − x̂₀⁽¹⁾)/σ + (x_mid − x̂₀⁽²⁾)/σ']
    const xi: Combination = { x: sigma / next, [earlier(1)]: dt / next };
    const slope1 = times(1 / sigma, sum(xi, { [earlier(1)]: -1 }));
    const slope2 = times(1 / next, { x: 1, P: -1 });
    drafts.push(row(i, 1, grid.timesteps[i + 1]!, next, sum(xi, times(dt / 2, sum(slope1, slope2)))));
  }
  return assemble({ sampler: name, steps, initNoiseSigma: grid.initNoiseSigma, final: { alpha: 1, sigma: 0 } }, drafts, { strength: o.strength });
}
