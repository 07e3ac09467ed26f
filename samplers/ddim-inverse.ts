// DDIM inversion, as diffusers' DDIMInverseScheduler: the deterministic DDIM
// map run from data to noise. Its quirk is kept: at listed timestep t the model
// is called with t, but the latent is at the level of t − T/N (or the initial
// ᾱ: 1, or ᾱ₀ without set_alpha_to_one) and the step lands on ᾱ_t.

import { assemble, unscaledDraft, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS } from './clipping.js';
import { sum, times } from './combination.js';
import type { SamplerRows } from './plan.js';
import { conversions, vpLevelOfAlphaBar } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';
import { inverseTimesteps, type TimestepSpacing } from './timesteps.js';

export interface DdimInverseOptions {
  /** Default 'leading'. */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
  /** Initial ᾱ = 1 (default) or ᾱ₀. */
  readonly setAlphaToOne?: boolean;
  /** diffusers' default is true. */
  readonly clipSample?: boolean;
  readonly clipSampleRange?: number;
}

export function ddimInverse(schedule: NoiseSchedule, steps: number, o: DdimInverseOptions = {}): SamplerRows {
  const name = 'ddim-inverse';
  const T = schedule.numTrainTimesteps;
  const ac = schedule.alphasCumprod;
  const ts = inverseTimesteps(name, T, steps, o.timestepSpacing ?? 'leading', o.stepsOffset ?? 0);
  const initial = (o.setAlphaToOne ?? true) ? 1 : ac[0]!;
  const ratio = Math.floor(T / steps);
  const clip = clipOp(name, o, true, X0_MAPS);
  const drafts = ts.map((t, i): RowDraft => {
    const current = Math.min(t - ratio, T - 1);
    const a = current >= 0 ? ac[current]! : initial;
    const target = ac[t]!;
    const level = vpLevelOfAlphaBar(a);
    const conv = conversions(schedule.predictionType, level, 1);
    const update = sum({ P: Math.sqrt(target) }, times(Math.sqrt(1 - target), { x: conv.eps.x, M: conv.eps.out }));
    return unscaledDraft({ step: i, t, level, conv, predict: 'x0', clip, update });
  });
  const last = ac[ts[ts.length - 1]!]!;
  return assemble({ sampler: 'ddim-inverse', steps, initNoiseSigma: 1, final: vpLevelOfAlphaBar(last) }, drafts);
}
