// How the model output M turns into the quantities samplers work with, given the
// latent's noise level. Every conversion is affine in (latent, M), which is what
// lets a plan row carry it as two numbers.

import type { FromLatentAndOutput, NoiseLevel } from './plan.js';
import type { PredictionType } from './schedule.js';

export interface Conversions {
  readonly x0: FromLatentAndOutput;
  readonly eps: FromLatentAndOutput;
}

/**
 * For a latent x ≈ α·x0 + σ·ε fed to the model as u = cIn·x, where
 * (cIn·α, cIn·σ) is a variance-preserving level (a² + s² = 1):
 * - ε-prediction: ε = M, x0 = (x − σM)/α;
 * - v-prediction (v = a·ε − s·x0 at the model input's level): x0 = a·u − s·M,
 *   ε = s·u + a·M;
 * - sample-prediction: x0 = M, ε = (x − αM)/σ.
 */
export function conversions(type: PredictionType, level: NoiseLevel, cIn: number): Conversions {
  const { alpha, sigma } = level;
  switch (type) {
    case 'epsilon':
      return { x0: { x: 1 / alpha, out: -sigma / alpha }, eps: { x: 0, out: 1 } };
    case 'v_prediction': {
      const a = cIn * alpha;
      const s = cIn * sigma;
      return { x0: { x: a * cIn, out: -s }, eps: { x: s * cIn, out: a } };
    }
    case 'sample':
      return { x0: { x: 0, out: 1 }, eps: { x: 1 / sigma, out: -alpha / sigma } };
  }
}

/** Variance-preserving level of a cumulative ᾱ: (√ᾱ, √(1 − ᾱ)). */
export function vpLevelOfAlphaBar(alphaBar: number): NoiseLevel {
  return { alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar) };
}

/** Variance-preserving level (α, σ) of a sigma-space σ̃ = σ/α, as diffusers' _sigma_to_alpha_sigma_t. */
export function vpLevelOfSigma(sigma: number): NoiseLevel {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha, sigma: sigma * alpha };
}
