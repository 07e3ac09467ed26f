// The σ̃ grid of diffusers' sigma-space schedulers (Euler, Euler ancestral,
// Heun): timesteps, σ̃ interpolated linearly at them (or Karras' σ̃ with the
// timesteps mapped back), the final σ̃, and init_noise_sigma.

import { SamplerOptionsError } from './errors.js';
import { f32 } from './float32.js';
import { interpAtIntegers } from './numpy.js';
import { alphasCumprodForSigmas, type NoiseSchedule } from './schedule.js';
import { karrasSigmas, logSigmaTable, sigmaTable, sigmaToT } from './sigmas.js';
import { sigmaSpaceTimesteps, type TimestepSpacing } from './timesteps.js';

export interface SigmaSpaceOptions {
  /** Default 'linspace'. */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
  readonly useKarrasSigmas?: boolean;
  /** Karras bounds; default: the interpolated grid's ends. */
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;
  /** 'zero' (default) or 'sigma_min' (σ̃ at t = 0). */
  readonly finalSigmasType?: 'zero' | 'sigma_min';
}

export interface SigmaGrid {
  /** Model timestep per step (float32 values). */
  readonly timesteps: readonly number[];
  /** σ̃ per step plus the final one (float32 values). */
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;
}

export function sigmaGrid(sampler: string, schedule: NoiseSchedule, steps: number, o: SigmaSpaceOptions): SigmaGrid {
  const spacing = o.timestepSpacing ?? 'linspace';
  const finalType = o.finalSigmasType ?? 'zero';
  if (finalType !== 'zero' && finalType !== 'sigma_min') {
    throw new SamplerOptionsError(sampler, 'finalSigmasType', "'zero' or 'sigma_min'", finalType);
  }
  const ac = alphasCumprodForSigmas(schedule);
  const table = sigmaTable(ac);
  let timesteps = sigmaSpaceTimesteps(sampler, schedule.numTrainTimesteps, steps, spacing, o.stepsOffset ?? 0);
  let sigmas = timesteps.map((t) => interpAtIntegers(t, table));
  if (o.useKarrasSigmas) {
    const logSigmas = logSigmaTable(table);
    sigmas = karrasSigmas(o.sigmaMin ?? sigmas[sigmas.length - 1]!, o.sigmaMax ?? sigmas[0]!, steps);
    timesteps = sigmas.map((s) => f32(sigmaToT(s, logSigmas)));
  }
  const last = finalType === 'zero' ? 0 : f32(Math.sqrt(f32(f32(1 - ac[0]!) / ac[0]!)));
  const all = [...sigmas.map(f32), last];
  const max = Math.max(...all);
  const initNoiseSigma = spacing === 'linspace' || spacing === 'trailing' ? max : f32(Math.sqrt(f32(f32(max * max) + 1)));
  return { timesteps, sigmas: all, initNoiseSigma };
}

/** diffusers' scale_model_input for sigma-space schedulers: x / √(σ̃² + 1). */
export function sigmaSpaceInputScale(sigma: number): number {
  return 1 / Math.sqrt(sigma * sigma + 1);
}
