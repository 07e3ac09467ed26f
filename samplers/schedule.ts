// The training noise schedule: betas and ᾱ_t = Π(1 − β_s) for t = 0..T−1,
// computed the way diffusers computes them (float32 tensors), so that every
// coefficient derived from them matches the reference to the last bit.

import { ScheduleConfigError } from './errors.js';
import { f32, torchCumprodF32, torchLinspaceF32 } from './float32.js';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface NoiseScheduleConfig {
  /** T, the number of training timesteps (diffusers: num_train_timesteps). Default 1000. */
  readonly numTrainTimesteps?: number;
  /** Default 0.0001 (diffusers' default, not Stable Diffusion's 0.00085). */
  readonly betaStart?: number;
  /** Default 0.02. */
  readonly betaEnd?: number;
  /** Default 'linear'. */
  readonly betaSchedule?: BetaSchedule;
  /** Explicit betas, overriding betaStart/betaEnd/betaSchedule. */
  readonly trainedBetas?: readonly number[];
  /** Lin et al. 2023: shift and scale √ᾱ so that ᾱ_{T−1} = 0. */
  readonly rescaleBetasZeroSnr?: boolean;
  /** What the model predicts. Default 'epsilon'. */
  readonly predictionType?: PredictionType;
}

export interface NoiseSchedule {
  readonly numTrainTimesteps: number;
  /** β_t as float32 values (stored in float64). */
  readonly betas: Float64Array;
  /** ᾱ_t as float32 values. With zero-terminal-SNR rescaling the last entry is 0. */
  readonly alphasCumprod: Float64Array;
  readonly predictionType: PredictionType;
  /** The config it was built from, defaults filled in. */
  readonly config: Required<Omit<NoiseScheduleConfig, 'trainedBetas'>> & { readonly trainedBetas: readonly number[] | null };
}

/** Builds betas and ᾱ exactly as diffusers 0.31 does (float32 tensors, cumprod accumulated in double). */
export function noiseSchedule(config: NoiseScheduleConfig = {}): NoiseSchedule {
  const full = {
    numTrainTimesteps: config.numTrainTimesteps ?? 1000,
    betaStart: config.betaStart ?? 0.0001,
    betaEnd: config.betaEnd ?? 0.02,
    betaSchedule: config.betaSchedule ?? 'linear',
    trainedBetas: config.trainedBetas ?? null,
    rescaleBetasZeroSnr: config.rescaleBetasZeroSnr ?? false,
    predictionType: config.predictionType ?? 'epsilon',
  } as const;
  validate(full);
  let betas = trainingBetas(full);
  if (full.rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
  const alphas = betas.map((b) => f32(1 - b));
  const alphasCumprod = torchCumprodF32(alphas);
  return { numTrainTimesteps: full.numTrainTimesteps, betas, alphasCumprod, predictionType: full.predictionType, config: full };
}

/** Stable Diffusion 1.x/2.x: scaled_linear from 0.00085 to 0.012 over 1000 steps, ε-prediction. */
export const sd15Schedule: NoiseSchedule = noiseSchedule({ betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' });

function trainingBetas(config: {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: readonly number[] | null;
}): Float64Array {
  const T = config.numTrainTimesteps;
  if (config.trainedBetas !== null) return Float64Array.from(config.trainedBetas, f32);
  switch (config.betaSchedule) {
    case 'linear':
      return torchLinspaceF32(config.betaStart, config.betaEnd, T);
    case 'scaled_linear':
      // linspace over √β in float32, then squared in float32.
      return torchLinspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), T).map((r) => f32(r * r));
    case 'squaredcos_cap_v2':
      return cosineBetas(T);
  }
}

/** Nichol & Dhariwal's cosine schedule: β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999), in float64 then stored as float32. */
function cosineBetas(T: number): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = f32(Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), 0.999));
  return betas;
}

/**
 * Lin et al. 2023, Algorithm 1, in float32 as diffusers runs it: √ᾱ is shifted
 * so its last value is 0 and scaled so its first value is unchanged.
 */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const cumprod = torchCumprodF32(betas.map((b) => f32(1 - b)));
  const sqrtBar = cumprod.map((a) => f32(Math.sqrt(a)));
  const first = sqrtBar[0]!;
  const last = sqrtBar[sqrtBar.length - 1]!;
  const scale = f32(first / f32(first - last));
  const shifted = sqrtBar.map((a) => f32(f32(a - last) * scale));
  const bar = shifted.map((a) => f32(a * a));
  const out = new Float64Array(betas.length);
  out[0] = f32(1 - bar[0]!);
  for (let i = 1; i < bar.length; i++) out[i] = f32(1 - f32(bar[i]! / bar[i - 1]!));
  return out;
}

/** ᾱ at an integer training timestep, with the range checked. */
export function alphaBar(schedule: NoiseSchedule, t: number): number {
  const value = schedule.alphasCumprod[t];
  if (!Number.isInteger(t) || value === undefined) {
    throw new ScheduleConfigError('timestep', `an integer in [0, ${schedule.numTrainTimesteps - 1}]`, t);
  }
  return value;
}

/**
 * ᾱ as the sigma-space schedulers (Euler, DPM-Solver, UniPC) see it: with a
 * zero-terminal-SNR schedule diffusers replaces the final 0 by 2⁻²⁴ so that the
 * first σ is finite.
 */
export function alphasCumprodForSigmas(schedule: NoiseSchedule): Float64Array {
  const out = Float64Array.from(schedule.alphasCumprod);
  if (schedule.config.rescaleBetasZeroSnr) out[out.length - 1] = 2 ** -24;
  return out;
}

function validate(config: {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: string;
  trainedBetas: readonly number[] | null;
  predictionType: string;
}): void {
  const T = config.numTrainTimesteps;
  if (!Number.isInteger(T) || T < 2) throw new ScheduleConfigError('numTrainTimesteps', 'an integer ≥ 2', T);
  if (!['linear', 'scaled_linear', 'squaredcos_cap_v2'].includes(config.betaSchedule)) {
    throw new ScheduleConfigError('betaSchedule', "'linear', 'scaled_linear' or 'squaredcos_cap_v2'", config.betaSchedule);
  }
  if (!['epsilon', 'v_prediction', 'sample'].includes(config.predictionType)) {
    throw new ScheduleConfigError('predictionType', "'epsilon', 'v_prediction' or 'sample'", config.predictionType);
  }
  for (const [field, value] of [['betaStart', config.betaStart], ['betaEnd', config.betaEnd]] as const) {
    if (!(value > 0 && value < 1)) throw new ScheduleConfigError(field, 'a number in (0, 1)', value);
  }
  if (config.trainedBetas !== null) {
    if (config.trainedBetas.length !== T) {
      throw new ScheduleConfigError('trainedBetas', `${T} values (numTrainTimesteps)`, `${config.trainedBetas.length} values`);
    }
    const bad = config.trainedBetas.findIndex((b) => !(b > 0 && b < 1));
    if (bad >= 0) throw new ScheduleConfigError(`trainedBetas[${bad}]`, 'a number in (0, 1)', config.trainedBetas[bad]);
  }
}
