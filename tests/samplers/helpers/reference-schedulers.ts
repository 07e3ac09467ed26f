// Independent, stateful re-statements of diffusers 0.31's scheduler step()
// functions, written from diffusers' documented semantics (its step() code
// paths: model-output history lists, lower_order_nums, last_sample, Heun's
// first/second-order state) rather than from kiln's row algebra. Element-wise
// float64. The tests run kiln's plans and these side by side on arbitrary
// (non-linear) models and compare every step.
//
// They take the grid (timesteps, σ̃ or ᾱ) as input: the grids are checked
// separately against values derived with NumPy (timesteps.test.ts). `begin`
// (default 0) is diffusers' set_begin_index for an image-to-image run: a fresh
// scheduler that takes its steps from that index of the full grid (for Heun, an
// index into its interleaved arrays); one output per step taken.

import type { PredictionType } from '../../../samplers/index.js';

export type RefModel = (input: Float64Array, t: number) => Float64Array;

interface Begin {
  /** Index of the first step taken (set_begin_index); default 0. */
  begin?: number;
}
export type RefNoise = () => Float64Array;

const map = (a: Float64Array, f: (v: number, i: number) => number) => Float64Array.from(a, f);

/** x0 and ε from a VP latent at (α, σ). */
function vpConvert(type: PredictionType, m: Float64Array, x: Float64Array, alpha: number, sigma: number) {
  const x0 = map(m, (v, i) => (type === 'epsilon' ? (x[i]! - sigma * v) / alpha : type === 'sample' ? v : alpha * x[i]! - sigma * v));
  const eps = map(m, (v, i) => (type === 'epsilon' ? v : type === 'sample' ? (x[i]! - alpha * v) / sigma : alpha * v + sigma * x[i]!));
  return { x0, eps };
}

function quantileThreshold(x0: Float64Array, ratio: number, maxValue: number): Float64Array {
  const sorted = Float64Array.from(x0, Math.abs).sort();
  const pos = ratio * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const s = Math.min(Math.max(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo), 1), maxValue);
  return map(x0, (v) => Math.min(Math.max(v, -s), s) / s);
}

export interface RefDdim extends Begin {
  alphasCumprod: ArrayLike<number>;
  timesteps: readonly number[];
  numTrainTimesteps: number;
  finalAlphaCumprod: number;
  eta: number;
  clipSample: number | null;
  predictionType: PredictionType;
}

/** DDIMScheduler.step, every step. */
export function refDdim(c: RefDdim, model: RefModel, x: Float64Array, noise: RefNoise): Float64Array[] {
  const out: Float64Array[] = [];
  const N = c.timesteps.length;
  for (const t of c.timesteps.slice(c.begin ?? 0)) {
    const m = model(x, t);
    const prev = t - Math.floor(c.numTrainTimesteps / N);
    const a = c.alphasCumprod[t]!;
    const ap = prev >= 0 ? c.alphasCumprod[prev]! : c.finalAlphaCumprod;
    let { x0, eps } = vpConvert(c.predictionType, m, x, Math.sqrt(a), Math.sqrt(1 - a));
    if (c.clipSample !== null) x0 = map(x0, (v) => Math.min(Math.max(v, -c.clipSample!), c.clipSample!));
    const variance = ((1 - ap) / (1 - a)) * (1 - a / ap);
    const std = c.eta * Math.sqrt(variance);
    const direction = map(eps, (v) => Math.sqrt(1 - ap - std * std) * v);
    let next = map(x0, (v, i) => Math.sqrt(ap) * v + direction[i]!);
    if (c.eta > 0) {
      const z = noise();
      next = map(next, (v, i) => v + std * z[i]!);
    }
    out.push(next);
    x = next;
  }
  return out;
}

export interface RefDdpm extends Begin {
  alphasCumprod: ArrayLike<number>;
  timesteps: readonly number[];
  clipSample: number | null;
  predictionType: PredictionType;
}

/** DDPMScheduler.step with variance_type fixed_small; previous_timestep is the next listed timestep (−1 after the last). */
export function refDdpm(c: RefDdpm, model: RefModel, x: Float64Array, noise: RefNoise): Float64Array[] {
  const out: Float64Array[] = [];
  for (const [index, t] of c.timesteps.entries()) {
    if (index < (c.begin ?? 0)) continue;
    const m = model(x, t);
    const prev = index === c.timesteps.length - 1 ? -1 : c.timesteps[index + 1]!;
    const a = c.alphasCumprod[t]!;
    const ap = prev >= 0 ? c.alphasCumprod[prev]! : 1;
    const currentAlpha = a / ap;
    const currentBeta = 1 - currentAlpha;
    let { x0 } = vpConvert(c.predictionType, m, x, Math.sqrt(a), Math.sqrt(1 - a));
    if (c.clipSample !== null) x0 = map(x0, (v) => Math.min(Math.max(v, -c.clipSample!), c.clipSample!));
    const c0 = (Math.sqrt(ap) * currentBeta) / (1 - a);
    const ct = (Math.sqrt(currentAlpha) * (1 - ap)) / (1 - a);
    let next = map(x0, (v, i) => c0 * v + ct * x[i]!);
    if (t > 0) {
      const z = noise();
      const std = Math.sqrt(Math.max(((1 - ap) / (1 - a)) * currentBeta, 1e-20));
      next = map(next, (v, i) => v + std * z[i]!);
    }
    out.push(next);
    x = next;
  }
  return out;
}

export interface RefSigmaSpace extends Begin {
  timesteps: readonly number[];
  /** N + 1 values, the last one final. */
  sigmas: readonly number[];
  predictionType: PredictionType;
}

function veX0(type: PredictionType, m: Float64Array, x: Float64Array, sigma: number): Float64Array {
  return map(m, (v, i) => (type === 'epsilon' ? x[i]! - sigma * v : type === 'sample' ? v : v * (-sigma / Math.sqrt(sigma * sigma + 1)) + x[i]! / (sigma * sigma + 1)));
}

/** EulerDiscreteScheduler.step with s_churn (noise drawn only when γ > 0). */
export function refEuler(c: RefSigmaSpace & { sChurn: number }, model: RefModel, x: Float64Array, noise: RefNoise): Float64Array[] {
  const out: Float64Array[] = [];
  c.timesteps.forEach((t, i) => {
    if (i < (c.begin ?? 0)) return;
    const sigma = c.sigmas[i]!;
    const m = model(map(x, (v) => v / Math.sqrt(sigma * sigma + 1)), t);
    const gamma = Math.min(c.sChurn / (c.sigmas.length - 1), Math.SQRT2 - 1);
    const sigmaHat = sigma * (gamma + 1);
    let sample = x;
    if (gamma > 0) {
      const z = noise();
      sample = map(x, (v, k) => v + z[k]! * Math.sqrt(sigmaHat ** 2 - sigma ** 2));
    }
    const x0 = c.predictionType === 'epsilon' ? map(m, (v, k) => sample[k]! - sigmaHat * v) : veX0(c.predictionType, m, sample, sigma);
    const dt = c.sigmas[i + 1]! - sigmaHat;
    x = map(sample, (v, k) => v + ((v - x0[k]!) / sigmaHat) * dt);
    out.push(x);
  });
  return out;
}

/** EulerAncestralDiscreteScheduler.step. */
export function refEulerAncestral(c: RefSigmaSpace, model: RefModel, x: Float64Array, noise: RefNoise): Float64Array[] {
  const out: Float64Array[] = [];
  c.timesteps.forEach((t, i) => {
    if (i < (c.begin ?? 0)) return;
    const from = c.sigmas[i]!;
    const to = c.sigmas[i + 1]!;
    const m = model(map(x, (v) => v / Math.sqrt(from * from + 1)), t);
    const x0 = veX0(c.predictionType, m, x, from);
    const up = Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2);
    const down = Math.sqrt(to ** 2 - up ** 2);
    const z = noise();
    x = map(x, (v, k) => v + ((v - x0[k]!) / from) * (down - from) + z[k]! * up);
    out.push(x);
  });
  return out;
}

/** HeunDiscreteScheduler: its interleaved timesteps/sigmas and first/second-order state. */
export function refHeun(c: RefSigmaSpace & { clipSample: number | null }, model: RefModel, x: Float64Array): Float64Array[] {
  const sig = [c.sigmas[0]!, ...c.sigmas.slice(1, -1).flatMap((s) => [s, s]), c.sigmas[c.sigmas.length - 1]!];
  const ts = [c.timesteps[0]!, ...c.timesteps.slice(1).flatMap((t) => [t, t])];
  let prevDerivative: Float64Array | null = null;
  let dt = 0;
  let saved: Float64Array | null = null;
  const out: Float64Array[] = [];
  ts.forEach((t, index) => {
    if (index < (c.begin ?? 0)) return;
    const m = model(map(x, (v) => v / Math.sqrt(sig[index]! ** 2 + 1)), t);
    const firstOrder = prevDerivative === null;
    const sigma = firstOrder ? sig[index]! : sig[index - 1]!;
    const next = firstOrder ? sig[index + 1]! : sig[index]!;
    const sigmaInput = firstOrder ? sigma : next;
    let x0 = veX0(c.predictionType, m, x, sigmaInput);
    if (c.clipSample !== null) x0 = map(x0, (v) => Math.min(Math.max(v, -c.clipSample!), c.clipSample!));
    if (firstOrder) {
      const derivative = map(x, (v, k) => (v - x0[k]!) / sigma);
      dt = next - sigma;
      prevDerivative = derivative;
      saved = x;
      x = map(x, (v, k) => v + derivative[k]! * dt);
    } else {
      const d2 = map(x, (v, k) => (v - x0[k]!) / next);
      const d: Float64Array = map(d2, (v, k) => (prevDerivative![k]! + v) / 2);
      x = map(saved!, (v, k) => v + d[k]! * dt);
      prevDerivative = null;
      saved = null;
    }
    out.push(x);
  });
  return out;
}

const alphaSigma = (s: number) => {
  const alpha = 1 / Math.sqrt(s * s + 1);
  return { alpha, sigma: s * alpha, lambda: Math.log(alpha) - Math.log(s * alpha) };
};

export interface RefDpm extends RefSigmaSpace {
  algorithm: 'dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver++' | 'sde-dpmsolver';
  order: number;
  solverType: 'midpoint' | 'heun';
  lowerOrderFinal: boolean;
  eulerAtFinal: boolean;
  finalZero: boolean;
  thresholding: { ratio: number; maxValue: number } | null;
}

/** DPMSolverMultistepScheduler.step with its model_outputs list and lower_order_nums. */
export function refDpmSolver(c: RefDpm, model: RefModel, x: Float64Array, noise: RefNoise): Float64Array[] {
  const N = c.timesteps.length;
  const outputs: (Float64Array | null)[] = Array.from({ length: c.order }, () => null);
  let lowerOrderNums = 0;
  const out: Float64Array[] = [];
  const data = c.algorithm === 'dpmsolver++' || c.algorithm === 'sde-dpmsolver++';
  c.timesteps.forEach((t, i) => {
    if (i < (c.begin ?? 0)) return;
    const m = model(x, t);
    const lowerFinal = i === N - 1 && (c.eulerAtFinal || (c.lowerOrderFinal && N < 15) || c.finalZero);
    const lowerSecond = i === N - 2 && c.lowerOrderFinal && N < 15;
    const s0 = alphaSigma(c.sigmas[i]!);
    const conv = vpConvert(c.predictionType, m, x, s0.alpha, s0.sigma);
    let converted: Float64Array = data ? conv.x0 : conv.eps;
    if (c.thresholding) {
      const x0 = data ? converted : map(converted, (v, k) => (x[k]! - s0.sigma * v) / s0.alpha);
      const thr = quantileThreshold(x0, c.thresholding.ratio, c.thresholding.maxValue);
      converted = data ? thr : map(thr, (v, k) => (x[k]! - s0.alpha * v) / s0.sigma);
    }
    outputs.shift();
    outputs.push(converted);
    const z = c.algorithm.startsWith('sde') ? noise() : null;
    const tt = alphaSigma(c.sigmas[i + 1]!);
    const h = tt.lambda - s0.lambda;
    let next: Float64Array;
    if (c.order === 1 || lowerOrderNums < 1 || lowerFinal) {
      const D0 = converted;
      next = map(x, (v, k) => {
        switch (c.algorithm) {
          case 'dpmsolver++':
            return (tt.sigma / s0.sigma) * v - tt.alpha * (Math.exp(-h) - 1) * D0[k]!;
          case 'dpmsolver':
            return (tt.alpha / s0.alpha) * v - tt.sigma * (Math.exp(h) - 1) * D0[k]!;
          case 'sde-dpmsolver++':
            return (tt.sigma / s0.sigma) * Math.exp(-h) * v + tt.alpha * (1 - Math.exp(-2 * h)) * D0[k]! + tt.sigma * Math.sqrt(1 - Math.exp(-2 * h)) * z![k]!;
          case 'sde-dpmsolver':
            return (tt.alpha / s0.alpha) * v - 2 * tt.sigma * (Math.exp(h) - 1) * D0[k]! + tt.sigma * Math.sqrt(Math.exp(2 * h) - 1) * z![k]!;
        }
      });
    } else if (c.order === 2 || lowerOrderNums < 2 || lowerSecond) {
      const s1 = alphaSigma(c.sigmas[i - 1]!);
      const m0 = outputs[outputs.length - 1]!;
      const m1 = outputs[outputs.length - 2]!;
      const r0 = (s0.lambda - s1.lambda) / h;
      next = map(x, (v, k) => {
        const D0 = m0[k]!;
        const D1 = (1 / r0) * (m0[k]! - m1[k]!);
        const mid = c.solverType === 'midpoint';
        switch (c.algorithm) {
          case 'dpmsolver++':
            return (tt.sigma / s0.sigma) * v - tt.alpha * (Math.exp(-h) - 1) * D0 + (mid ? -0.5 * tt.alpha * (Math.exp(-h) - 1) : tt.alpha * ((Math.exp(-h) - 1) / h + 1)) * D1;
          case 'dpmsolver':
            return (tt.alpha / s0.alpha) * v - tt.sigma * (Math.exp(h) - 1) * D0 - (mid ? 0.5 * tt.sigma * (Math.exp(h) - 1) : tt.sigma * ((Math.exp(h) - 1) / h - 1)) * D1;
          case 'sde-dpmsolver++':
            return (
              (tt.sigma / s0.sigma) * Math.exp(-h) * v +
              tt.alpha * (1 - Math.exp(-2 * h)) * D0 +
              (mid ? 0.5 * tt.alpha * (1 - Math.exp(-2 * h)) : tt.alpha * ((1 - Math.exp(-2 * h)) / (-2 * h) + 1)) * D1 +
              tt.sigma * Math.sqrt(1 - Math.exp(-2 * h)) * z![k]!
            );
          case 'sde-dpmsolver':
            return (
              (tt.alpha / s0.alpha) * v -
              2 * tt.sigma * (Math.exp(h) - 1) * D0 -
              (mid ? tt.sigma * (Math.exp(h) - 1) : 2 * tt.sigma * ((Math.exp(h) - 1) / h - 1)) * D1 +
              tt.sigma * Math.sqrt(Math.exp(2 * h) - 1) * z![k]!
            );
        }
      });
    } else {
      const s1 = alphaSigma(c.sigmas[i - 1]!);
      const s2 = alphaSigma(c.sigmas[i - 2]!);
      const [m2, m1, m0] = outputs.slice(-3) as Float64Array[];
      const h0 = s0.lambda - s1.lambda;
      const h1 = s1.lambda - s2.lambda;
      const r0 = h0 / h;
      const r1 = h1 / h;
      next = map(x, (v, k) => {
        const D0 = m0![k]!;
        const D10 = (1 / r0) * (m0![k]! - m1![k]!);
        const D11 = (1 / r1) * (m1![k]! - m2![k]!);
        const D1 = D10 + (r0 / (r0 + r1)) * (D10 - D11);
        const D2 = (1 / (r0 + r1)) * (D10 - D11);
        if (c.algorithm === 'dpmsolver++') {
          return (tt.sigma / s0.sigma) * v - tt.alpha * (Math.exp(-h) - 1) * D0 + tt.alpha * ((Math.exp(-h) - 1) / h + 1) * D1 - tt.alpha * ((Math.exp(-h) - 1 + h) / h ** 2 - 0.5) * D2;
        }
        return (tt.alpha / s0.alpha) * v - tt.sigma * (Math.exp(h) - 1) * D0 - tt.sigma * ((Math.exp(h) - 1) / h - 1) * D1 - tt.sigma * ((Math.exp(h) - 1 - h) / h ** 2 - 0.5) * D2;
      });
    }
    if (lowerOrderNums < c.order) lowerOrderNums++;
    out.push(next);
    x = next;
  });
  return out;
}

export interface RefUniPc extends RefSigmaSpace {
  order: number;
  variant: 'bh1' | 'bh2';
  predictX0: boolean;
  lowerOrderFinal: boolean;
  disableCorrector: readonly number[];
}

function solveSmall(A: number[][], b: number[]): number[] {
  // Cramer's rule is plenty for the ≤ 3×3 systems of these tests.
  const det = (M: number[][]): number =>
    M.length === 1 ? M[0]![0]! : M[0]!.reduce((s, v, j) => s + (j % 2 ? -1 : 1) * v * det(M.slice(1).map((r) => r.filter((_, k) => k !== j))), 0);
  const d = det(A);
  return b.map((_, j) => det(A.map((row, i) => row.map((v, k) => (k === j ? b[i]! : v)))) / d);
}

/** UniPCMultistepScheduler.step: corrector on last_sample, then predictor. */
export function refUniPc(c: RefUniPc, model: RefModel, x: Float64Array): Float64Array[] {
  const N = c.timesteps.length;
  const outputs: (Float64Array | null)[] = Array.from({ length: c.order }, () => null);
  let lowerOrderNums = 0;
  let lastSample: Float64Array | null = null;
  let thisOrder = 0;
  const out: Float64Array[] = [];
  const lam = (k: number) => alphaSigma(c.sigmas[k]!).lambda;
  const coefficients = (h: number, order: number, rks: number[]) => {
    const hh = c.predictX0 ? -h : h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let fact = 1;
    const Bh = c.variant === 'bh1' ? hh : Math.expm1(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => r ** (i - 1)));
      b.push((hPhiK * fact) / Bh);
      fact *= i + 1;
      hPhiK = hPhiK / hh - 1 / fact;
    }
    return { hPhi1, Bh, R, b };
  };
  c.timesteps.forEach((t, i) => {
    if (i < (c.begin ?? 0)) return;
    const m = model(x, t);
    const useCorrector = i > 0 && !c.disableCorrector.includes(i - 1) && lastSample !== null;
    const s = alphaSigma(c.sigmas[i]!);
    const conv = vpConvert(c.predictionType, m, x, s.alpha, s.sigma);
    const converted = c.predictX0 ? conv.x0 : conv.eps;
    if (useCorrector) {
      // UniC: this step's new output corrects the previous step.
      const m0 = outputs[outputs.length - 1]!;
      const h = lam(i) - lam(i - 1);
      const rks: number[] = [];
      const D1s: Float64Array[] = [];
      for (let k = 1; k < thisOrder; k++) {
        const rk = (lam(i - 1 - k) - lam(i - 1)) / h;
        rks.push(rk);
        const mi = outputs[outputs.length - 1 - k]!;
        D1s.push(map(mi, (v, q) => (v - m0[q]!) / rk));
      }
      rks.push(1);
      const { hPhi1, Bh, R, b } = coefficients(h, thisOrder, rks);
      const rhos = thisOrder === 1 ? [0.5] : solveSmall(R, b);
      const ti = alphaSigma(c.sigmas[i]!);
      const si = alphaSigma(c.sigmas[i - 1]!);
      const last = lastSample!;
      x = map(last, (v, q) => {
        const corr = D1s.reduce((acc, d, k) => acc + rhos[k]! * d[q]!, 0);
        const D1t = converted[q]! - m0[q]!;
        return c.predictX0
          ? (ti.sigma / si.sigma) * v - ti.alpha * hPhi1 * m0[q]! - ti.alpha * Bh * (corr + rhos[rhos.length - 1]! * D1t)
          : (ti.alpha / si.alpha) * v - ti.sigma * hPhi1 * m0[q]! - ti.sigma * Bh * (corr + rhos[rhos.length - 1]! * D1t);
      });
    }
    outputs.shift();
    outputs.push(converted);
    const raw = c.lowerOrderFinal ? Math.min(c.order, N - i) : c.order;
    thisOrder = Math.min(raw, lowerOrderNums + 1);
    lastSample = x;
    // UniP
    const m0 = outputs[outputs.length - 1]!;
    const h = lam(i + 1) - lam(i);
    const rks: number[] = [];
    const D1s: Float64Array[] = [];
    for (let k = 1; k < thisOrder; k++) {
      const rk = (lam(i - k) - lam(i)) / h;
      rks.push(rk);
      const mi = outputs[outputs.length - 1 - k]!;
      D1s.push(map(mi, (v, q) => (v - m0[q]!) / rk));
    }
    rks.push(1);
    const { hPhi1, Bh, R, b } = coefficients(h, thisOrder, rks);
    const rhos = D1s.length === 0 ? [] : thisOrder === 2 ? [0.5] : solveSmall(R.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
    const tt = alphaSigma(c.sigmas[i + 1]!);
    const x0 = x;
    x = map(x0, (v, q) => {
      const res = D1s.reduce((acc, d, k) => acc + rhos[k]! * d[q]!, 0);
      return c.predictX0
        ? (tt.sigma / s.sigma) * v - tt.alpha * hPhi1 * m0[q]! - (D1s.length ? tt.alpha * Bh * res : 0)
        : (tt.alpha / s.alpha) * v - tt.sigma * hPhi1 * m0[q]! - (D1s.length ? tt.sigma * Bh * res : 0);
    });
    if (lowerOrderNums < c.order) lowerOrderNums++;
    out.push(x);
  });
  return out;
}
