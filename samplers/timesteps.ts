// Where the inference steps sit on the training timeline, per diffusers scheduler
// family. The three spacings follow Lin et al. 2023, Table 2; the arithmetic
// (NumPy float64, round-half-even, the float step of arange) is diffusers' own,
// so the values are equal, not merely close.

import { SamplerOptionsError } from './errors.js';
import { f32 } from './float32.js';
import { arange, linspace, roundHalfEven } from './numpy.js';

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** DDIM / DDPM: N integer timesteps, descending. */
export function discreteTimesteps(sampler: string, T: number, N: number, spacing: TimestepSpacing, offset: number): number[] {
  validate(sampler, T, N, spacing, offset);
  if (N > T) throw new SamplerOptionsError(sampler, 'steps', `at most numTrainTimesteps = ${T}`, N);
  let ts: number[];
  if (spacing === 'linspace') ts = linspace(0, T - 1, N).map(roundHalfEven).reverse();
  else if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    ts = Array.from({ length: N }, (_, i) => roundHalfEven(i * ratio)).reverse().map((t) => t + offset);
  } else ts = arange(T, 0, -T / N).map((t) => roundHalfEven(t) - 1);
  return checked(sampler, ts, T, N, spacing, { decreasing: false });
}

/** DDIM inversion: N integer timesteps, ascending ('leading' or 'trailing'). */
export function inverseTimesteps(sampler: string, T: number, N: number, spacing: TimestepSpacing, offset: number): number[] {
  validate(sampler, T, N, spacing, offset);
  if (spacing === 'linspace') throw new SamplerOptionsError(sampler, 'timestepSpacing', "'leading' or 'trailing'", spacing);
  let ts: number[];
  if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    ts = Array.from({ length: N }, (_, i) => roundHalfEven(i * ratio) + offset);
  } else ts = arange(T, 0, -T / N).reverse().map((t) => roundHalfEven(t) - 1);
  return checked(sampler, ts, T, N, spacing, { decreasing: false });
}

/**
 * DPM-Solver / UniPC: N+1 points over [0, last), the lowest dropped; integer.
 * `last` is T unless DPM-Solver's lambda_min_clipped cuts the noisy end.
 */
export function multistepTimesteps(
  sampler: string,
  T: number,
  N: number,
  spacing: TimestepSpacing,
  offset: number,
  last: number = T,
): number[] {
  validate(sampler, T, N, spacing, offset);
  let ts: number[];
  if (spacing === 'linspace') ts = linspace(0, last - 1, N + 1).map(roundHalfEven).reverse().slice(0, -1);
  else if (spacing === 'leading') {
    const ratio = Math.floor(last / (N + 1));
    ts = Array.from({ length: N + 1 }, (_, i) => roundHalfEven(i * ratio)).reverse().slice(0, -1).map((t) => t + offset);
  } else ts = arange(last, 0, -T / N).map((t) => roundHalfEven(t) - 1);
  return checked(sampler, ts, T, N, spacing, { decreasing: true });
}

/** Euler / Euler ancestral / Heun: N float32 timesteps, descending, not rounded for 'linspace'. */
export function sigmaSpaceTimesteps(sampler: string, T: number, N: number, spacing: TimestepSpacing, offset: number): number[] {
  validate(sampler, T, N, spacing, offset);
  let ts: number[];
  if (spacing === 'linspace') ts = linspace(0, T - 1, N).map(f32).reverse();
  else if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    ts = Array.from({ length: N }, (_, i) => roundHalfEven(i * ratio)).reverse().map((t) => f32(t + offset));
  } else ts = arange(T, 0, -T / N).map((t) => f32(roundHalfEven(t) - 1));
  return checked(sampler, ts, T, N, spacing, { decreasing: true });
}

function validate(sampler: string, T: number, N: number, spacing: TimestepSpacing, offset: number): void {
  if (!Number.isInteger(N) || N < 1) throw new SamplerOptionsError(sampler, 'steps', 'an integer ≥ 1', N);
  if (!SPACINGS.includes(spacing)) throw new SamplerOptionsError(sampler, 'timestepSpacing', "'leading', 'trailing' or 'linspace'", spacing);
  if (!Number.isInteger(offset) || offset < 0) throw new SamplerOptionsError(sampler, 'stepsOffset', 'an integer ≥ 0', offset);
  if (!Number.isInteger(T) || T < 2) throw new SamplerOptionsError(sampler, 'numTrainTimesteps', 'an integer ≥ 2', T);
}

function checked(
  sampler: string,
  ts: number[],
  T: number,
  N: number,
  spacing: TimestepSpacing,
  { decreasing }: { decreasing: boolean },
): number[] {
  if (ts.length !== N) {
    // NumPy's arange(T, 0, −T/N) has N+1 elements for some N (the float step
    // times N overshoots); diffusers then runs an extra step at t = −1.
    throw new SamplerOptionsError(
      sampler,
      'steps',
      `a step count for which '${spacing}' spacing over ${T} training steps yields ${N} timesteps ` +
        `(diffusers 0.31 computes ${ts.length} here, down to t = ${Math.min(...ts)}; kiln refuses to reproduce that; ` +
        `choose another step count or spacing)`,
      N,
    );
  }
  const outside = ts.find((t) => t < 0 || t > T - 1);
  if (outside !== undefined) {
    throw new SamplerOptionsError(sampler, 'stepsOffset', `timesteps within [0, ${T - 1}] for ${N} '${spacing}' steps`, `timestep ${outside}`);
  }
  if (decreasing) {
    const repeat = ts.findIndex((t, i) => i > 0 && t >= ts[i - 1]!);
    if (repeat > 0) {
      throw new SamplerOptionsError(
        sampler,
        'steps',
        `distinct timesteps (${N} '${spacing}' steps over ${T} training steps repeat t = ${ts[repeat]}; a multistep solver would divide by a zero step)`,
        N,
      );
    }
  }
  return ts;
}
