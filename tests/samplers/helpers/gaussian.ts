// Gaussian data x0 ~ N(μ, s²·I): the ideal denoiser and the probability-flow
// ODE are closed-form, so a sampler's error against the exact solution is its
// discretisation error alone.
//
// For a latent x ≈ α·x0 + σ·ε the marginal is N(αμ, α²s² + σ²), the ideal
// denoiser is E[x0 | x] = μ + αs²/(α²s² + σ²)·(x − αμ), and the PF-ODE keeps
// the standardised value (x − αμ)/√(α²s² + σ²) constant (each coordinate is an
// independent 1-D Gaussian whose flow is the monotone map between marginals).

import type { ModelFunction, NoiseLevel, Plan, PredictionType } from '../../../samplers/index.js';

export interface GaussianData {
  readonly mean: number;
  readonly std: number;
}

export function idealDenoiser(x: number, level: NoiseLevel, data: GaussianData): number {
  const { alpha, sigma } = level;
  return data.mean + ((alpha * data.std ** 2) / (alpha ** 2 * data.std ** 2 + sigma ** 2)) * (x - alpha * data.mean);
}

export function exactFlow(x: number, from: NoiseLevel, to: NoiseLevel, data: GaussianData): number {
  const spread = (l: NoiseLevel) => Math.sqrt(l.alpha ** 2 * data.std ** 2 + l.sigma ** 2);
  return to.alpha * data.mean + (spread(to) * (x - from.alpha * data.mean)) / spread(from);
}

/**
 * The ideal model at each row's noise level: it reads the level from the row
 * (the level a sampler's conversion assumes), so it is exact even where the
 * timestep passed to the model disagrees with the latent (DDIM inversion, Karras).
 */
export function idealModel(data: GaussianData, prediction: PredictionType): ModelFunction {
  return (input, _t, _c, { row }) => {
    const level = { alpha: row.cIn * row.level.alpha, sigma: row.cIn * row.level.sigma };
    return Float64Array.from(input, (u) => {
      const x0 = idealDenoiser(u, level, data);
      const eps = level.sigma === 0 ? 0 : (u - level.alpha * x0) / level.sigma;
      return prediction === 'epsilon' ? eps : prediction === 'sample' ? x0 : level.alpha * eps - level.sigma * x0;
    });
  };
}

/**
 * What an exact solver returns: the exact flow from the first row's level to the
 * final level; for plans that end at σ = 0 by denoising the last row's latent,
 * the ideal denoiser applied to the exact flow up to that last row.
 */
export function exactSolution(plan: Plan, xT: ArrayLike<number>, data: GaussianData): Float64Array {
  const start = plan.rows[0]!.level;
  if (plan.final.sigma > 0) return Float64Array.from(xT, (x) => exactFlow(x, start, plan.final, data));
  const last = plan.rows[plan.rows.length - 1]!.level;
  return Float64Array.from(xT, (x) => idealDenoiser(exactFlow(x, start, last, data), last, data));
}

/** Least-squares slope of log(error) against log(steps), negated: the empirical order. */
export function convergenceOrder(steps: readonly number[], errors: readonly number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return -num / den;
}
