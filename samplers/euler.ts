// Euler's method on the probability-flow ODE in σ̃-space (Karras et al. 2022,
// Alg. 2 with optional churn), as diffusers' EulerDiscreteScheduler:
//   x̂ = x + √(σ̂² − σ²)·s_noise·z,  σ̂ = σ(1 + γ)
//   x' = x̂ + (σ_next − σ̂)·(x̂ − x̂₀)/σ̂
// The model sees x/√(σ² + 1) at σ̃ linearly interpolated at fractional t.

import { assemble, type RowDraft } from './assemble.js';
import { sum, times, type Combination } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import type { SamplerRows } from './plan.js';
import { conversions } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import { sigmaGrid, sigmaSpaceInputScale, type SigmaSpaceOptions } from './sigma-space.js';
import type { StrengthOptions } from './strength.js';

export interface EulerOptions extends SigmaSpaceOptions, StrengthOptions {
  /** Karras' S_churn (default 0: deterministic). */
  readonly sChurn?: number;
  readonly sTmin?: number;
  readonly sTmax?: number;
  readonly sNoise?: number;
}

export function euler(schedule: NoiseSchedule, steps: number, o: EulerOptions = {}): SamplerRows {
  const name = o.useKarrasSigmas ? 'euler (karras)' : 'euler';
  const churn = o.sChurn ?? 0;
  if (!(churn >= 0 && Number.isFinite(churn))) throw new SamplerOptionsError(name, 'sChurn', 'a finite number ≥ 0', churn);
  const grid = sigmaGrid(name, schedule, steps, o);
  const drafts = grid.timesteps.map((t, i): RowDraft => {
    const sigma = grid.sigmas[i]!;
    const next = grid.sigmas[i + 1]!;
    const inWindow = (o.sTmin ?? 0) <= sigma && sigma <= (o.sTmax ?? Infinity);
    const gamma = inWindow ? Math.min(churn / (grid.sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = sigma * (gamma + 1);
    const level = { alpha: 1, sigma };
    const cIn = sigmaSpaceInputScale(sigma);
    const conv = conversions(schedule.predictionType, level, cIn);
    // ε-prediction subtracts σ̂·M; v-prediction keeps σ (diffusers' formulas).
    const x0 = schedule.predictionType === 'epsilon' ? { x: 1, out: -sigmaHat } : conv.x0;
    const churnNoise = (o.sNoise ?? 1) * Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
    const churned: Combination = gamma > 0 ? { x: 1, z: churnNoise } : { x: 1 };
    const churnedX0: Combination = gamma > 0 ? { P: 1, z: x0.x * churnNoise } : { P: 1 };
    const dt = next - sigmaHat;
    return {
      step: i,
      stage: 0,
      t,
      level,
      cIn,
      denoise: x0,
      predict: { kind: 'x0', ...x0 },
      update: sum(times(1 + dt / sigmaHat, churned), times(-dt / sigmaHat, churnedX0)),
    };
  });
  const final = grid.sigmas[grid.sigmas.length - 1]!;
  return assemble({ sampler: name, steps, initNoiseSigma: grid.initNoiseSigma, final: { alpha: 1, sigma: final } }, drafts, { strength: o.strength });
}
