// Euler ancestral (k-diffusion's sample_euler_ancestral), as diffusers'
// EulerAncestralDiscreteScheduler: step down to σ_down deterministically, then
// add σ_up of fresh noise, with σ_up² + σ_down² = σ_next² and
// σ_up = σ_next·√(σ² − σ_next²)/σ.

import { assemble, type RowDraft } from './assemble.js';
import { sum, times } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import type { SamplerRows } from './plan.js';
import { conversions } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import { sigmaGrid, sigmaSpaceInputScale, type SigmaSpaceOptions } from './sigma-space.js';
import type { StrengthOptions } from './strength.js';

export type EulerAncestralOptions = Pick<SigmaSpaceOptions, 'timestepSpacing' | 'stepsOffset'> & StrengthOptions;

export function eulerAncestral(schedule: NoiseSchedule, steps: number, o: EulerAncestralOptions = {}): SamplerRows {
  const name = 'euler-ancestral';
  const extra = o as SigmaSpaceOptions;
  if (extra.useKarrasSigmas) throw new SamplerOptionsError(name, 'useKarrasSigmas', 'false (diffusers 0.31 has no Karras sigmas for Euler ancestral)', true);
  const grid = sigmaGrid(name, schedule, steps, { timestepSpacing: o.timestepSpacing, stepsOffset: o.stepsOffset });
  const drafts = grid.timesteps.map((t, i): RowDraft => {
    const sigma = grid.sigmas[i]!;
    const next = grid.sigmas[i + 1]!;
    const up = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
    const down = Math.sqrt(next * next - up * up);
    const level = { alpha: 1, sigma };
    const cIn = sigmaSpaceInputScale(sigma);
    const conv = conversions(schedule.predictionType, level, cIn);
    const dt = down - sigma;
    // x' = x + dt·(x − x̂₀)/σ + σ_up·z; the reference draws noise on every step, the last one included.
    return {
      step: i,
      stage: 0,
      t,
      level,
      cIn,
      denoise: conv.x0,
      predict: { kind: 'x0', ...conv.x0 },
      update: sum({ x: 1 + dt / sigma, P: -dt / sigma }, { z: up }),
    };
  });
  return assemble({ sampler: name, steps, initNoiseSigma: grid.initNoiseSigma, final: { alpha: 1, sigma: 0 } }, drafts, { strength: o.strength });
}
