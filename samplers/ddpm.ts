// DDPM ancestral sampling (Ho et al. 2020), as diffusers' DDPMScheduler: the
// posterior mean  x' = √ᾱₚ·β_t/(1 − ᾱ)·x̂₀ + √α_t·(1 − ᾱₚ)/(1 − ᾱ)·x  plus
// posterior noise for t > 0, where α_t = ᾱ/ᾱₚ and ᾱₚ is taken at the next
// timestep of the run (diffusers' previous_timestep with num_inference_steps
// set; unlike DDIM, which steps to t − T/N), 1 after the last.

import { assemble, unscaledDraft, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS, type ClipOptions } from './clipping.js';
import { SamplerOptionsError } from './errors.js';
import type { SamplerRows } from './plan.js';
import { conversions, vpLevelOfAlphaBar } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import type { StrengthOptions } from './strength.js';
import { discreteTimesteps, type TimestepSpacing } from './timesteps.js';

/** 'fixed_small': the posterior variance β̃_t (clamped at 1e-20); 'fixed_large': β_t. */
export type DdpmVarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large';

export interface DdpmOptions extends ClipOptions, StrengthOptions {
  readonly varianceType?: DdpmVarianceType;
  /** Default 'leading'. */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
}

/** diffusers' DDPMScheduler defaults apply, including clipSample = true. */
export function ddpm(schedule: NoiseSchedule, steps: number, o: DdpmOptions = {}): SamplerRows {
  const name = 'ddpm';
  const varianceType = o.varianceType ?? 'fixed_small';
  if (!['fixed_small', 'fixed_small_log', 'fixed_large'].includes(varianceType)) {
    throw new SamplerOptionsError(name, 'varianceType', "'fixed_small', 'fixed_small_log' or 'fixed_large' (learned variances need the model's variance channels)", varianceType);
  }
  const T = schedule.numTrainTimesteps;
  const ac = schedule.alphasCumprod;
  const ts = discreteTimesteps(name, T, steps, o.timestepSpacing ?? 'leading', o.stepsOffset ?? 0);
  const clip = clipOp(name, o, true, X0_MAPS);
  const targets = ts.map((_, i) => (i + 1 < ts.length ? ac[ts[i + 1]!]! : 1));
  const drafts = ts.map((t, i): RowDraft => {
    const a = ac[t]!;
    const ap = targets[i]!;
    const alphaT = a / ap;
    const betaT = 1 - alphaT;
    const level = vpLevelOfAlphaBar(a);
    const conv = conversions(schedule.predictionType, level, 1);
    const posterior = Math.max(((1 - ap) / (1 - a)) * betaT, 1e-20);
    const variance = varianceType === 'fixed_large' ? betaT : posterior;
    const update = {
      P: (Math.sqrt(ap) * betaT) / (1 - a),
      x: (Math.sqrt(alphaT) * (1 - ap)) / (1 - a),
      ...(t > 0 ? { z: Math.sqrt(variance) } : {}),
    };
    return unscaledDraft({ step: i, t, level, conv, predict: 'x0', clip, update });
  });
  const last = targets[targets.length - 1]!;
  return assemble({ sampler: 'ddpm', steps, initNoiseSigma: 1, final: vpLevelOfAlphaBar(last) }, drafts, { strength: o.strength });
}
