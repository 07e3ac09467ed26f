// Image-to-image runs start part-way down the schedule. diffusers' img2img
// pipelines (StableDiffusionImg2ImgPipeline.get_timesteps, 0.31) take, for
// strength s and N steps, init = min(int(N·s), N) and t_start = N − init, run
// scheduler.timesteps[t_start·order:] after set_begin_index(t_start·order) on a
// scheduler whose state set_timesteps has just reset, and start from
// scheduler.add_noise(x0, noise, timesteps[t_start·order]).
//
// Every sampler takes `strength` as an option: it builds its full grid (so
// grid-wide quantities — DDIM's T/N, Euler's churn γ, DPM-Solver's and UniPC's
// lower-order-final rules, which diffusers computes from the full
// len(timesteps) — stay as they are), and derives the kept rows' state (orders,
// history, corrector) from the steps taken since the run began.

import { SamplerOptionsError } from './errors.js';
import type { NoiseLevel } from './plan.js';

export interface StrengthOptions {
  /**
   * Image-to-image strength s in (0, 1]: run only the last min(⌊N·s⌋, N) of the
   * N steps, from a fresh solver state, and report in `start` the noise level
   * to noise the clean latent to. Absent: the full run (no `start`).
   */
  readonly strength?: number;
}

/**
 * t_start, the full schedule's steps a run with this strength skips (0 without
 * a strength). Throws SamplerOptionsError for a strength outside (0, 1] or one
 * that leaves no step to run.
 */
export function skippedSteps(sampler: string, steps: number, strength: number | undefined): number {
  if (strength === undefined) return 0;
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) {
    throw new SamplerOptionsError(sampler, 'strength', 'a number in (0, 1] (the fraction of the schedule an image-to-image run covers; 1 = all of it)', strength);
  }
  // Python's int() truncates; N·s is positive here, so floor is the same.
  const kept = Math.min(Math.floor(steps * strength), steps);
  if (kept < 1) {
    throw new SamplerOptionsError(
      sampler,
      'strength',
      `at least 1/${steps} with ${steps} steps (⌊${steps}·strength⌋ must be ≥ 1: ⌊${steps * strength}⌋ = 0 steps would run; ` +
        'raise the strength or the step count)',
      strength,
    );
  }
  return steps - kept;
}

/**
 * diffusers' scheduler.add_noise for a row's level: level.alpha · x0 +
 * level.sigma · noise, computed in float64 and stored as float32. `x0` may hold
 * one latent for a whole batch: it is repeated to the noise's length.
 */
export function addNoise(level: NoiseLevel, x0: ArrayLike<number>, noise: ArrayLike<number>): Float32Array {
  const n = noise.length;
  const m = x0.length;
  if (m === 0 || n % m !== 0) {
    throw new SamplerOptionsError('addNoise', 'x0', `a latent whose length divides the noise's ${n} values (one latent per image, or one for the whole batch)`, `${m} values`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = level.alpha * x0[i % m]! + level.sigma * noise[i]!;
  return out;
}
