// Sigma-space views of a schedule (σ̃ = √((1 − ᾱ)/ᾱ), the noise-to-signal
// ratio): the training table, interpolation at fractional timesteps, Karras et
// al.'s ρ-spaced sigmas and the inverse map σ̃ → t, as diffusers computes them.

import { f32 } from './float32.js';
import { linspace } from './numpy.js';

/** σ̃_t for every training timestep, in float32 as torch computes ((1 − ᾱ)/ᾱ)^0.5. */
export function sigmaTable(alphasCumprod: ArrayLike<number>): Float64Array {
  return Float64Array.from(alphasCumprod, (a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/** np.log of the float32 table (float32 results). */
export function logSigmaTable(sigmas: ArrayLike<number>): Float64Array {
  return Float64Array.from(sigmas, (s) => f32(Math.log(s)));
}

/** Karras et al. 2022, eq. 5: N sigmas from σ_max to σ_min, uniform in σ^(1/ρ), ρ = 7. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, N: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, N).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Lu et al.'s uniform-logSNR spacing as diffusers implements it (uniform in log σ̃). */
export function uniformLogSigmas(logSigmaMin: number, logSigmaMax: number, N: number): number[] {
  return linspace(0, 1, N).map((r) => Math.exp(logSigmaMax + r * (logSigmaMin - logSigmaMax)));
}

/**
 * diffusers' _sigma_to_t: the fractional timestep whose log σ̃ interpolates
 * linearly to log σ (clamped to the table).
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}
