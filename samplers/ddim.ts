// DDIM (Song et al. 2021), as diffusers' DDIMScheduler:
//   x' = √ᾱₚ·x̂₀ + √(1 − ᾱₚ − s²)·ε̂ + s·z,   s = η·√((1 − ᾱₚ)/(1 − ᾱ)·(1 − ᾱ/ᾱₚ))
// with ᾱₚ taken at t − T/N (diffusers' "previous timestep", whatever the
// spacing), or the final ᾱ (1, or ᾱ₀ without set_alpha_to_one) below 0.

import { assemble, unscaledDraft, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS, type ClipOptions } from './clipping.js';
import { sum, times, type Combination } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import type { SamplerRows } from './plan.js';
import { conversions, vpLevelOfAlphaBar } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import type { StrengthOptions } from './strength.js';
import { discreteTimesteps, type TimestepSpacing } from './timesteps.js';

export interface DdimOptions extends ClipOptions, StrengthOptions {
  /** η: 0 is deterministic DDIM, 1 matches DDPM's posterior variance. Default 0. */
  readonly eta?: number;
  /** Default 'leading' (diffusers' DDIMScheduler default). */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
  /** Final ᾱ = 1 (true, default) or ᾱ₀ (Stable Diffusion's configs). */
  readonly setAlphaToOne?: boolean;
  /** Re-derive ε̂ from the clipped x̂₀ (Glide) instead of the model's. Default false. */
  readonly useClippedModelOutput?: boolean;
}

/**
 * diffusers' DDIMScheduler defaults apply, including clipSample = true; Stable
 * Diffusion's scheduler configs turn clipping off.
 */
export function ddim(schedule: NoiseSchedule, steps: number, o: DdimOptions = {}): SamplerRows {
  const name = 'ddim';
  const eta = o.eta ?? 0;
  if (!(eta >= 0 && Number.isFinite(eta))) throw new SamplerOptionsError(name, 'eta', 'a finite number ≥ 0', eta);
  const T = schedule.numTrainTimesteps;
  const ac = schedule.alphasCumprod;
  const ts = discreteTimesteps(name, T, steps, o.timestepSpacing ?? 'leading', o.stepsOffset ?? 0);
  const finalAlphaBar = (o.setAlphaToOne ?? true) ? 1 : ac[0]!;
  const ratio = Math.floor(T / steps);
  const clip = clipOp(name, o, true, X0_MAPS);
  const targets = ts.map((t) => (t - ratio >= 0 ? ac[t - ratio]! : finalAlphaBar));
  const drafts = ts.map((t, i): RowDraft => {
    const a = ac[t]!;
    const ap = targets[i]!;
    const level = vpLevelOfAlphaBar(a);
    const conv = conversions(schedule.predictionType, level, 1);
    const std = eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    const direction = Math.sqrt(Math.max(0, 1 - ap - std * std));
    const eps: Combination = o.useClippedModelOutput
      ? { x: 1 / level.sigma, P: -level.alpha / level.sigma }
      : { x: conv.eps.x, M: conv.eps.out };
    const update = sum({ P: Math.sqrt(ap) }, times(direction, eps), eta > 0 ? { z: std } : {});
    return unscaledDraft({ step: i, t, level, conv, predict: 'x0', clip, update });
  });
  const last = targets[targets.length - 1]!;
  return assemble(
    { sampler: eta > 0 ? `ddim η=${eta}` : 'ddim', steps, initNoiseSigma: 1, final: vpLevelOfAlphaBar(last) },
    drafts,
    { strength: o.strength },
  );
}
