// Multistep DPM-Solver (Lu et al. 2022) and DPM-Solver++ (Lu et al. 2023), as
// diffusers' DPMSolverMultistepScheduler. With λ = log α − log σ, h = λ_t − λ_s:
//   DPM-Solver++ (data prediction D = x̂₀):  x_t = (σ_t/σ_s)·x_s − α_t(e^{−h} − 1)·D
//   DPM-Solver  (noise prediction D = ε̂):   x_t = (α_t/α_s)·x_s − σ_t(e^{h} − 1)·D
// plus the multistep corrections from earlier predictions (orders 2 and 3) and,
// for the SDE variants, fresh noise. Quirks kept: first-order first step, lower
// orders at the end (lower_order_final below 15 steps, always into σ = 0),
// Karras / Lu sigmas used directly with their rounded timesteps.

import { assemble, unscaledDraft, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS } from './clipping.js';
import { earlier, sum, times, type Combination } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import { f32 } from './float32.js';
import { interpAtIntegers, roundHalfEven } from './numpy.js';
import type { ClipMaps, SamplerRows } from './plan.js';
import { conversions, vpLevelOfSigma } from './prediction.js';
import { alphasCumprodForSigmas, type NoiseSchedule } from './schedule.js';
import { skippedSteps, type StrengthOptions } from './strength.js';
import { karrasSigmas, logSigmaTable, sigmaTable, sigmaToT, uniformLogSigmas } from './sigmas.js';
import { multistepTimesteps, type TimestepSpacing } from './timesteps.js';

export type DpmSolverAlgorithm = 'dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver++' | 'sde-dpmsolver';

export interface DpmSolverOptions extends StrengthOptions {
  /** Default 'dpmsolver++'. */
  readonly algorithmType?: DpmSolverAlgorithm;
  /** 1, 2 (default) or 3. */
  readonly solverOrder?: number;
  /** How the 2nd-order term is formed: 'midpoint' (default) or 'heun'. */
  readonly solverType?: 'midpoint' | 'heun';
  /** Lower orders in the last steps when there are fewer than 15. Default true. */
  readonly lowerOrderFinal?: boolean;
  readonly eulerAtFinal?: boolean;
  readonly useKarrasSigmas?: boolean;
  readonly useLuLambdas?: boolean;
  /** Default 'zero' (only for the ++ algorithms, as in diffusers). */
  readonly finalSigmasType?: 'zero' | 'sigma_min';
  /** Cut the noisy end where λ < this. Default −∞. */
  readonly lambdaMinClipped?: number;
  /** Default 'linspace'. */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
  readonly thresholding?: boolean;
  readonly dynamicThresholdingRatio?: number;
  readonly sampleMaxValue?: number;
}

export function dpmSolverMultistep(schedule: NoiseSchedule, steps: number, o: DpmSolverOptions = {}): SamplerRows {
  const algorithm = o.algorithmType ?? 'dpmsolver++';
  const order = o.solverOrder ?? 2;
  const solverType = o.solverType ?? 'midpoint';
  const finalType = o.finalSigmasType ?? 'zero';
  const name = `${algorithm} ${order}M${o.useKarrasSigmas ? ' (karras)' : o.useLuLambdas ? ' (lu lambdas)' : ''}`;
  validate(name, algorithm, order, solverType, finalType, o);
  const dataPrediction = algorithm === 'dpmsolver++' || algorithm === 'sde-dpmsolver++';
  const sde = algorithm.startsWith('sde-');

  const { timesteps, sigmas } = dpmSolverGrid(name, schedule, steps, o, finalType);
  const levels = sigmas.map(vpLevelOfSigma);
  const lambdas = levels.map((l) => Math.log(l.alpha) - Math.log(l.sigma));
  const N = timesteps.length;
  const clipMaps = (i: number): ClipMaps => {
    if (dataPrediction) return X0_MAPS;
    const { alpha, sigma } = levels[i]!;
    return { toX0: { x: 1 / alpha, pred: -sigma / alpha }, fromX0: { x: 1 / sigma, x0: -alpha / sigma } };
  };
  const lowerOrderFinal = o.lowerOrderFinal ?? true;
  // A partial run starts with an empty history (diffusers' lower_order_nums = 0);
  // the lower-order-final rules still look at the full schedule's length.
  const skip = skippedSteps(name, steps, o.strength);

  const drafts = timesteps.map((t, i): RowDraft => {
    const finalStep = i === N - 1 && ((o.eulerAtFinal ?? false) || (lowerOrderFinal && N < 15) || finalType === 'zero');
    const secondToLast = i === N - 2 && lowerOrderFinal && N < 15;
    const previousSteps = Math.min(Math.max(i - skip, 0), order);
    const thisOrder = order === 1 || previousSteps < 1 || finalStep ? 1 : order === 2 || previousSteps < 2 || secondToLast ? 2 : 3;
    const s0 = levels[i]!;
    const target = levels[i + 1]!;
    const h = lambdas[i + 1]! - lambdas[i]!;
    const conv = conversions(schedule.predictionType, s0, 1);
    const D = derivatives(thisOrder, h, lambdas, i);
    const update = sum(
      linearPart(algorithm, solverType, thisOrder, s0, target, h, D),
      sde ? { z: sdeNoise(algorithm, target, h) } : {},
    );
    const clip = clipOp(name, o, false, clipMaps(i));
    return unscaledDraft({ step: i, t, level: s0, conv, predict: dataPrediction ? 'x0' : 'eps', clip, update });
  });
  return assemble({ sampler: name, steps, initNoiseSigma: 1, final: levels[N]! }, drafts, { strength: o.strength });
}

/** DPM-Solver++(2M) as Stable Diffusion pipelines use it. */
export function dpmSolverPP2M(schedule: NoiseSchedule, steps: number, o: DpmSolverOptions = {}): SamplerRows {
  return dpmSolverMultistep(schedule, steps, { ...o, algorithmType: 'dpmsolver++', solverOrder: 2 });
}

/** DPM-Solver++(2M) Karras. */
export function dpmSolverPP2MKarras(schedule: NoiseSchedule, steps: number, o: DpmSolverOptions = {}): SamplerRows {
  return dpmSolverMultistep(schedule, steps, { ...o, algorithmType: 'dpmsolver++', solverOrder: 2, useKarrasSigmas: true });
}

/** The original noise-prediction multistep DPM-Solver (2M); it cannot end at σ = 0, so it ends at σ_min. */
export function dpmSolver2M(schedule: NoiseSchedule, steps: number, o: DpmSolverOptions = {}): SamplerRows {
  return dpmSolverMultistep(schedule, steps, { finalSigmasType: 'sigma_min', ...o, algorithmType: 'dpmsolver', solverOrder: 2 });
}

/** Timesteps and σ̃ (N + 1 values, float32) as DPMSolverMultistepScheduler.set_timesteps. */
function dpmSolverGrid(
  name: string,
  schedule: NoiseSchedule,
  steps: number,
  o: DpmSolverOptions,
  finalType: 'zero' | 'sigma_min',
): { timesteps: number[]; sigmas: number[] } {
  const T = schedule.numTrainTimesteps;
  const ac = alphasCumprodForSigmas(schedule);
  const clipAt = o.lambdaMinClipped ?? -Infinity;
  // searchsorted over λ in increasing order (λ falls with t): how many lie below the clip.
  const lambdaT = Array.from(ac, (a) => Math.log(f32(Math.sqrt(a))) - Math.log(f32(Math.sqrt(f32(1 - a)))));
  const clipped = lambdaT.filter((l) => l < clipAt).length;
  let timesteps = multistepTimesteps(name, T, steps, o.timestepSpacing ?? 'linspace', o.stepsOffset ?? 0, T - clipped);
  const table = sigmaTable(ac);
  const logSigmas = logSigmaTable(table);
  let sigmas: number[];
  if (o.useKarrasSigmas) {
    sigmas = karrasSigmas(table[0]!, table[T - 1]!, steps);
    timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
  } else if (o.useLuLambdas) {
    sigmas = uniformLogSigmas(logSigmas[0]!, logSigmas[T - 1]!, steps);
    timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
  } else sigmas = timesteps.map((t) => interpAtIntegers(t, table));
  const last = finalType === 'zero' ? 0 : f32(Math.sqrt(f32(f32(1 - ac[0]!) / ac[0]!)));
  return { timesteps, sigmas: [...sigmas, last].map(f32) };
}

/**
 * The multistep differences as combinations of this row's prediction P and the
 * earlier ones: D0 = m0, D1 (order 2: (m0 − m1)/r0; order 3: the extrapolated
 * first difference) and D2 (order 3).
 */
function derivatives(order: number, h: number, lambdas: readonly number[], i: number): Combination[] {
  const m0: Combination = { P: 1 };
  if (order === 1) return [m0];
  const m1: Combination = { [earlier(1)]: 1 };
  const r0 = (lambdas[i]! - lambdas[i - 1]!) / h;
  const d10 = times(1 / r0, sum(m0, times(-1, m1)));
  if (order === 2) return [m0, d10];
  const m2: Combination = { [earlier(2)]: 1 };
  const r1 = (lambdas[i - 1]! - lambdas[i - 2]!) / h;
  const d11 = times(1 / r1, sum(m1, times(-1, m2)));
  const d1 = sum(d10, times(r0 / (r0 + r1), sum(d10, times(-1, d11))));
  const d2 = times(1 / (r0 + r1), sum(d10, times(-1, d11)));
  return [m0, d1, d2];
}

function linearPart(
  algorithm: DpmSolverAlgorithm,
  solverType: 'midpoint' | 'heun',
  order: number,
  s: { alpha: number; sigma: number },
  t: { alpha: number; sigma: number },
  h: number,
  [D0, D1, D2]: Combination[],
): Combination {
  const em = Math.exp(-h) - 1; // e^{−h} − 1
  const ep = Math.exp(h) - 1; // e^{h} − 1
  const e2 = 1 - Math.exp(-2 * h);
  const d0 = D0!;
  switch (algorithm) {
    case 'dpmsolver++': {
      const base = sum({ x: t.sigma / s.sigma }, times(-t.alpha * em, d0));
      if (order === 1) return base;
      if (order === 2) {
        return solverType === 'midpoint' ? sum(base, times(-0.5 * t.alpha * em, D1!)) : sum(base, times(t.alpha * (em / h + 1), D1!));
      }
      return sum(base, times(t.alpha * (em / h + 1), D1!), times(-t.alpha * ((em + h) / (h * h) - 0.5), D2!));
    }
    case 'dpmsolver': {
      const base = sum({ x: t.alpha / s.alpha }, times(-t.sigma * ep, d0));
      if (order === 1) return base;
      if (order === 2) {
        return solverType === 'midpoint' ? sum(base, times(-0.5 * t.sigma * ep, D1!)) : sum(base, times(-t.sigma * (ep / h - 1), D1!));
      }
      return sum(base, times(-t.sigma * (ep / h - 1), D1!), times(-t.sigma * ((ep - h) / (h * h) - 0.5), D2!));
    }
    case 'sde-dpmsolver++': {
      const base = sum({ x: (t.sigma / s.sigma) * Math.exp(-h) }, times(t.alpha * e2, d0));
      if (order === 1) return base;
      return solverType === 'midpoint' ? sum(base, times(0.5 * t.alpha * e2, D1!)) : sum(base, times(t.alpha * (e2 / (-2 * h) + 1), D1!));
    }
    case 'sde-dpmsolver': {
      const base = sum({ x: t.alpha / s.alpha }, times(-2 * t.sigma * ep, d0));
      if (order === 1) return base;
      return solverType === 'midpoint' ? sum(base, times(-t.sigma * ep, D1!)) : sum(base, times(-2 * t.sigma * (ep / h - 1), D1!));
    }
  }
}

function sdeNoise(algorithm: DpmSolverAlgorithm, t: { sigma: number }, h: number): number {
  return algorithm === 'sde-dpmsolver++' ? t.sigma * Math.sqrt(1 - Math.exp(-2 * h)) : t.sigma * Math.sqrt(Math.exp(2 * h) - 1);
}

function validate(
  name: string,
  algorithm: string,
  order: number,
  solverType: string,
  finalType: string,
  o: DpmSolverOptions,
): void {
  if (!['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++', 'sde-dpmsolver'].includes(algorithm)) {
    throw new SamplerOptionsError(name, 'algorithmType', "'dpmsolver++', 'dpmsolver', 'sde-dpmsolver++' or 'sde-dpmsolver'", algorithm);
  }
  if (![1, 2, 3].includes(order)) throw new SamplerOptionsError(name, 'solverOrder', '1, 2 or 3', order);
  if (order === 3 && algorithm.startsWith('sde-')) throw new SamplerOptionsError(name, 'solverOrder', '1 or 2 for the SDE variants (diffusers has no 3rd-order SDE update)', order);
  if (solverType !== 'midpoint' && solverType !== 'heun') throw new SamplerOptionsError(name, 'solverType', "'midpoint' or 'heun'", solverType);
  if (finalType !== 'zero' && finalType !== 'sigma_min') throw new SamplerOptionsError(name, 'finalSigmasType', "'zero' or 'sigma_min'", finalType);
  if (finalType === 'zero' && (algorithm === 'dpmsolver' || algorithm === 'sde-dpmsolver')) {
    throw new SamplerOptionsError(name, 'finalSigmasType', `'sigma_min' for algorithm '${algorithm}' (its update divides by σ = 0; diffusers refuses too)`, finalType);
  }
  if (o.useKarrasSigmas && o.useLuLambdas) throw new SamplerOptionsError(name, 'useLuLambdas', 'not together with useKarrasSigmas', true);
}
