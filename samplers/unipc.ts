// UniPC (Zhao et al. 2023), as diffusers' UniPCMultistepScheduler with the
// B(h) variants bh1 / bh2: a multistep predictor (UniP) and, after each new
// model evaluation, a corrector (UniC) that re-does the previous step with the
// new prediction included.
//
// The corrector at step i rewrites x_i, the latent the model was just evaluated
// at, using the previous latent x^c_{i−1} — which the plan does not keep. It does
// not need to: the predictor that produced x_i and the corrector share the
// same x^c_{i−1} term (σ_i/σ_{i−1}·x^c_{i−1}) and the same m_{i−1} term, so
//   x^c_i = x_i − B(h)·α_i·[Σ_k ρᶜ_k·D_k + ρᶜ_last·(m_i − m_{i−1})] + B(h)·α_i·Σ_k ρᵖ_k·D_k
// (D_k the predictor's differences of step i−1), a combination of x_i and
// stored predictions. Row i's update is that corrector followed by the
// predictor from x^c_i.

import { assemble, unscaledDraft, type RowDraft } from './assemble.js';
import { clipOp, X0_MAPS } from './clipping.js';
import { earlier, sum, times, type Combination } from './combination.js';
import { SamplerOptionsError } from './errors.js';
import { f32 } from './float32.js';
import { interpAtIntegers, roundHalfEven } from './numpy.js';
import type { NoiseLevel, SamplerRows } from './plan.js';
import { conversions, vpLevelOfSigma } from './prediction.js';
import { alphasCumprodForSigmas, type NoiseSchedule } from './schedule.js';
import { skippedSteps, type StrengthOptions } from './strength.js';
import { karrasSigmas, logSigmaTable, sigmaTable, sigmaToT } from './sigmas.js';
import { multistepTimesteps, type TimestepSpacing } from './timesteps.js';

export interface UniPcOptions extends StrengthOptions {
  /** The UniP order; the corrector adds one. Default 2. */
  readonly solverOrder?: number;
  /** Default 'bh2'. */
  readonly solverType?: 'bh1' | 'bh2';
  /** Work on x̂₀ (default) or on ε̂. */
  readonly predictX0?: boolean;
  /** Lower the order in the last steps (always, not only below 15 steps). Default true. */
  readonly lowerOrderFinal?: boolean;
  /** Steps whose following corrector is skipped (diffusers: disable_corrector). */
  readonly disableCorrector?: readonly number[];
  /** Karras sigmas; diffusers 0.31 then repeats σ_min as the final σ (the last step changes nothing). */
  readonly useKarrasSigmas?: boolean;
  /** Default 'zero'. */
  readonly finalSigmasType?: 'zero' | 'sigma_min';
  /** Default 'linspace'. */
  readonly timestepSpacing?: TimestepSpacing;
  readonly stepsOffset?: number;
  readonly thresholding?: boolean;
  readonly dynamicThresholdingRatio?: number;
  readonly sampleMaxValue?: number;
}

export function unipc(schedule: NoiseSchedule, steps: number, o: UniPcOptions = {}): SamplerRows {
  const order = o.solverOrder ?? 2;
  const variant = o.solverType ?? 'bh2';
  const predictX0 = o.predictX0 ?? true;
  const finalType = o.finalSigmasType ?? 'zero';
  const name = `unipc ${variant} order ${order}${o.useKarrasSigmas ? ' (karras)' : ''}`;
  if (!Number.isInteger(order) || order < 1) throw new SamplerOptionsError(name, 'solverOrder', 'an integer ≥ 1', order);
  if (variant !== 'bh1' && variant !== 'bh2') throw new SamplerOptionsError(name, 'solverType', "'bh1' or 'bh2'", variant);
  if (finalType !== 'zero' && finalType !== 'sigma_min') throw new SamplerOptionsError(name, 'finalSigmasType', "'zero' or 'sigma_min'", finalType);
  if (variant === 'bh1' && finalType === 'zero' && !o.useKarrasSigmas) {
    throw new SamplerOptionsError(name, 'finalSigmasType', "'sigma_min' with bh1 (B(h) = h is infinite on a step into σ = 0; diffusers returns NaN there)", finalType);
  }
  if (!predictX0 && finalType === 'zero' && !o.useKarrasSigmas) {
    throw new SamplerOptionsError(name, 'finalSigmasType', "'sigma_min' with predictX0 = false (the ε-form step into σ = 0 is ∞·0; diffusers returns NaN there)", finalType);
  }
  if (o.thresholding && !predictX0) throw new SamplerOptionsError(name, 'thresholding', 'predictX0 = true (thresholding acts on x̂₀)', true);

  const { timesteps, sigmas } = unipcGrid(name, schedule, steps, o, finalType);
  const levels = sigmas.map(vpLevelOfSigma);
  const lambdas = levels.map((l) => Math.log(l.alpha) - Math.log(l.sigma));
  const N = timesteps.length;
  const lowerOrderFinal = o.lowerOrderFinal ?? true;
  // A partial run starts fresh (diffusers: lower_order_nums = 0, no last_sample,
  // so no corrector on its first row); N − i still counts the full schedule.
  const skip = skippedSteps(name, steps, o.strength);
  const orders = timesteps.map((_, i) => Math.min(lowerOrderFinal ? Math.min(order, N - i) : order, Math.min(Math.max(i - skip, 0), order) + 1));
  const disabled = new Set(o.disableCorrector ?? []);
  const scaleOf = (l: NoiseLevel): number => (predictX0 ? l.alpha : l.sigma);
  const clip = clipOp(name, o, false, X0_MAPS);

  const drafts = timesteps.map((t, i): RowDraft => {
    let corrected: Combination = { x: 1 };
    if (i > skip && !disabled.has(i - 1)) {
      // Step i−1 → i, seen from row i: m_{i−1} is P-1, m_{i−1−k} is P-(1+k), m_i is P.
      const p = orders[i - 1]!;
      const h = lambdas[i]! - lambdas[i - 1]!;
      const ratios = Array.from({ length: p - 1 }, (_, k) => (lambdas[i - 2 - k]! - lambdas[i - 1]!) / h);
      const differences = ratios.map((r, k) => times(1 / r, sum({ [earlier(2 + k)]: 1 }, { [earlier(1)]: -1 })));
      const corrector = bhCoefficients(h, p, ratios, variant, predictX0, 'corrector');
      const predictor = bhCoefficients(h, p, ratios, variant, predictX0, 'predictor');
      const weight = scaleOf(levels[i]!) * corrector.bh;
      corrected = sum(
        corrected,
        ...differences.map((d, k) => times(weight * (predictor.rhos[k]! - corrector.rhos[k]!), d)),
        times(-weight * corrector.rhos[p - 1]!, { P: 1, [earlier(1)]: -1 }),
      );
    }
    const p = orders[i]!;
    const s0 = levels[i]!;
    const target = levels[i + 1]!;
    const h = lambdas[i + 1]! - lambdas[i]!;
    const ratios = Array.from({ length: p - 1 }, (_, k) => (lambdas[i - 1 - k]! - lambdas[i]!) / h);
    const differences = ratios.map((r, k) => times(1 / r, sum({ [earlier(1 + k)]: 1 }, { P: -1 })));
    const predictor = bhCoefficients(h, p, ratios, variant, predictX0, 'predictor');
    const carry = predictX0 ? target.sigma / s0.sigma : target.alpha / s0.alpha;
    const weight = scaleOf(target);
    const update = sum(
      times(carry, corrected),
      { P: -weight * predictor.hPhi1 },
      ...differences.map((d, k) => times(-weight * predictor.bh * predictor.rhos[k]!, d)),
    );
    const conv = conversions(schedule.predictionType, s0, 1);
    return unscaledDraft({ step: i, t, level: s0, conv, predict: predictX0 ? 'x0' : 'eps', clip, update });
  });
  return assemble({ sampler: name, steps, initNoiseSigma: 1, final: levels[N]! }, drafts, { strength: o.strength });
}

interface BhCoefficients {
  /** h·φ₁(h) = e^{hh} − 1. */
  readonly hPhi1: number;
  readonly bh: number;
  /** Predictor: one weight per earlier difference; corrector: those plus the new one's. */
  readonly rhos: readonly number[];
}

/**
 * UniPC's B(h) and ρ weights for a step of size h in λ with the earlier
 * predictions at relative positions `ratios` (r_k = (λ_{s_k} − λ_{s0})/h):
 * R_{ik} = r_k^{i−1} (with r = 1 appended), b_i = i!·φ_{i+1}(hh)/B(h); the
 * predictor solves the leading (p−1)×(p−1) system (ρ = ½ at order 2), the
 * corrector the full p×p one (ρ = ½ at order 1).
 */
function bhCoefficients(
  h: number,
  order: number,
  ratios: readonly number[],
  variant: 'bh1' | 'bh2',
  predictX0: boolean,
  kind: 'predictor' | 'corrector',
): BhCoefficients {
  const hh = predictX0 ? -h : h;
  const hPhi1 = Math.expm1(hh);
  const bh = variant === 'bh1' ? hh : Math.expm1(hh);
  const rks = [...ratios, 1];
  const R: number[][] = [];
  const b: number[] = [];
  let hPhiK = hPhi1 / hh - 1;
  let factorial = 1;
  for (let i = 1; i <= order; i++) {
    R.push(rks.map((r) => r ** (i - 1)));
    b.push((hPhiK * factorial) / bh);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  if (kind === 'predictor') {
    if (order === 1) return { hPhi1, bh, rhos: [] };
    if (order === 2) return { hPhi1, bh, rhos: [0.5] };
    return { hPhi1, bh, rhos: solve(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1)) };
  }
  return { hPhi1, bh, rhos: order === 1 ? [0.5] : solve(R, b) };
}

/** Gaussian elimination with partial pivoting (the systems are at most a few rows). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const m = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k] = m[r]![k]! - f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let acc = m[r]![n]!;
    for (let k = r + 1; k < n; k++) acc -= m[r]![k]! * x[k]!;
    x[r] = acc / m[r]![r]!;
  }
  return x;
}

/** Timesteps and σ̃ (N + 1 values, float32) as UniPCMultistepScheduler.set_timesteps (0.31). */
function unipcGrid(
  name: string,
  schedule: NoiseSchedule,
  steps: number,
  o: UniPcOptions,
  finalType: 'zero' | 'sigma_min',
): { timesteps: number[]; sigmas: number[] } {
  const T = schedule.numTrainTimesteps;
  const ac = alphasCumprodForSigmas(schedule);
  let timesteps = multistepTimesteps(name, T, steps, o.timestepSpacing ?? 'linspace', o.stepsOffset ?? 0);
  const table = sigmaTable(ac);
  if (o.useKarrasSigmas) {
    const logSigmas = logSigmaTable(table);
    const sigmas = karrasSigmas(table[0]!, table[T - 1]!, steps);
    timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
    return { timesteps, sigmas: [...sigmas, sigmas[sigmas.length - 1]!].map(f32) };
  }
  const sigmas = timesteps.map((t) => interpAtIntegers(t, table));
  const last = finalType === 'zero' ? 0 : f32(Math.sqrt(f32(f32(1 - ac[0]!) / ac[0]!)));
  return { timesteps, sigmas: [...sigmas, last].map(f32) };
}
