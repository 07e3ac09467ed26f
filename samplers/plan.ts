// A sampling run is a plan: a JSON-serializable table with one row per model
// evaluation. Sampler functions produce SamplerRows (what the sampler needs);
// plan() adds the guidance (which branches, how they combine); an executor (the
// host one in host-executor.ts, a GPU one later) runs the rows and nothing else.

import type { GuidanceSpec } from './guidance.js';

/**
 * # Row semantics
 *
 * State of an execution: the latent `x` (shape [B, …], B images), a register
 * file `R[0..plan.registers)` of latent-shaped buffers (zero-initialised), and a
 * stream of standard-normal noise. The run starts from
 * `x = plan.initNoiseSigma · z` (z standard normal; or a given latent) and
 * returns `x` after the last row, whose noise level is `plan.final`. A plan
 * with `start` (image-to-image, see PartialStart) starts instead from
 * `x = start.level.alpha · x0 + start.level.sigma · z` for a clean latent x0
 * (diffusers' `scheduler.add_noise(x0, z, timesteps[0])`; no initNoiseSigma).
 * All coefficients are plain numbers (float64 in the plan; a device may use
 * float32). Per row, in this order:
 *
 * 1. **Model input.** `u = cIn · x`; the model is called with `u`, the timestep
 *    value `t` (a number, fractional for some samplers) and, per branch, the
 *    conditioning named in `branches[k]` (names are resolved by the pipeline).
 *    All branches see the same `u` and `t`: evaluate them as one batch of
 *    `branches.length · B`. Call the outputs `O_k`.
 * 2. **Combine** into one model output `M` (`combine.kind`):
 *    - `'weighted'`: `M = Σ_k weights[k] · O_k`.
 *    - `'apg'` (adaptive projected guidance, Sadat et al. 2024), computed on x0
 *      predictions `D_k = denoise.x · x + denoise.out · O_k`, per image b:
 *      `Δ = D_cond − D_uncond`; with `momentum`: `R[m] ← Δ + beta · R[m]`,
 *      `Δ = R[m]`; if `normThreshold > 0`: `Δ ← Δ · min(1, normThreshold/‖Δ‖₂)`;
 *      `Δ∥ = (⟨Δ, D_cond⟩ / ⟨D_cond, D_cond⟩) · D_cond`, `Δ⊥ = Δ − Δ∥`;
 *      `D = D_cond + (scale − 1) · (Δ⊥ + eta · Δ∥)`; then back to output space:
 *      `M = (D − denoise.x · x) / denoise.out`.
 * 3. **Rescale** (optional, Lin et al. 2023, φ = `rescale.phi`): per image b,
 *    `M ← φ · M · std(O_ref)/std(M) + (1 − φ) · M` with `O_ref =
 *    O_{rescale.reference}` and `std` the unbiased (n − 1) standard deviation
 *    over all elements of the image.
 * 4. **Prediction.** `P = predict.x · x + predict.out · M`: the sampler's
 *    working quantity, x0 (`predict.kind = 'x0'`) or ε (`'eps'`).
 * 5. **Clip** (optional): `X = clip.toX0.x · x + clip.toX0.pred · P` is an x0
 *    estimate; `'clamp'`: `X' = clamp(X, −range, range)`; `'dynamic'` (Imagen's
 *    dynamic thresholding), per image: `s = quantile(|X|, ratio)` (linear
 *    interpolation between order statistics, as torch.quantile),
 *    `s = clamp(s, 1, maxValue)`, `X' = clamp(X, −s, s) / s`. Then
 *    `P ← clip.fromX0.x · x + clip.fromX0.x0 · X'`.
 * 6. **Update.** `x' = update.x · x + update.pred · P + update.out · M
 *    + update.uncond.coef · O_{update.uncond.branch}
 *    + Σ_j update.history[j].coef · R[update.history[j].register]
 *    + update.noise · z`, with `z` a fresh standard-normal latent drawn only when
 *    `update.noise` is present (absent optional coefficients are 0). Registers
 *    are read before this row writes any.
 * 7. **Store** (optional): `R[store] ← P` (the clipped prediction).
 *
 * Multi-stage methods are rows too: Heun's second stage is a row that reads the
 * first stage's x0 from a register; UniPC's corrector is folded into the next
 * row's update (it is linear in the latent and the stored predictions).
 * `step`/`stage` say which sampler step a row belongs to (guidance specs count
 * steps, not rows; in a partial run, steps of that run, from 0, as diffusers'
 * callbacks count them); `level` is the noise level of `x` entering the row
 * (`x ≈ alpha · x0 + sigma · ε`, descriptive: executors do not need it).
 */
export interface PlanRow extends SamplerRow {
  /** Conditioning names, one model evaluation each, batched. */
  readonly branches: readonly string[];
  readonly combine: Combine;
  readonly rescale?: { readonly phi: number; readonly reference: number };
}

/** Noise level of a latent: x ≈ alpha · x0 + sigma · ε. */
export interface NoiseLevel {
  readonly alpha: number;
  readonly sigma: number;
}

/** value = x · latent + out · modelOutput. */
export interface FromLatentAndOutput {
  readonly x: number;
  readonly out: number;
}

export interface Prediction extends FromLatentAndOutput {
  readonly kind: 'x0' | 'eps';
}

export type ClipOp =
  | ({ readonly kind: 'clamp'; readonly range: number } & ClipMaps)
  | ({ readonly kind: 'dynamic'; readonly ratio: number; readonly maxValue: number } & ClipMaps);

export interface ClipMaps {
  /** x0 = toX0.x · latent + toX0.pred · P */
  readonly toX0: { readonly x: number; readonly pred: number };
  /** P = fromX0.x · latent + fromX0.x0 · clipped x0 */
  readonly fromX0: { readonly x: number; readonly x0: number };
}

export interface RegisterTerm {
  readonly register: number;
  readonly coef: number;
}

export interface Update {
  readonly x: number;
  readonly pred: number;
  /** The combined model output M itself (DDIM's unclipped ε direction). */
  readonly out?: number;
  /** One branch's raw output (CFG++ re-noises with the unconditional prediction). */
  readonly uncond?: { readonly branch: number; readonly coef: number };
  readonly history: readonly RegisterTerm[];
  /** Present iff the row draws fresh noise. */
  readonly noise?: number;
}

export type Combine =
  | { readonly kind: 'weighted'; readonly weights: readonly number[] }
  | {
      readonly kind: 'apg';
      readonly cond: number;
      readonly uncond: number;
      readonly scale: number;
      readonly eta: number;
      readonly normThreshold: number;
      readonly momentum?: { readonly beta: number; readonly register: number };
    };

/** One row as a sampler emits it, before guidance is known. */
export interface SamplerRow {
  readonly step: number;
  readonly stage: number;
  readonly t: number;
  readonly level: NoiseLevel;
  readonly cIn: number;
  /** x0 from (latent, model output): used by APG and for previews. */
  readonly denoise: FromLatentAndOutput;
  readonly predict: Prediction;
  readonly clip?: ClipOp;
  readonly update: Update;
  readonly store?: number;
}

/**
 * A run that starts part-way down the schedule: image-to-image with strength s,
 * as diffusers' img2img pipelines run it (get_timesteps, then set_begin_index).
 * Of the N steps of the full schedule the run takes the last
 * `min(⌊N·s⌋, N)`, skipping `t_start = N − that`, with a fresh solver state
 * (empty multistep history: lower orders first; UniPC's corrector off on the
 * first row; Heun's stages paired as in the full run).
 */
export interface PartialStart {
  readonly strength: number;
  /** N, the steps of the full schedule. */
  readonly fullSteps: number;
  /** t_start: the full schedule's steps that are skipped (SamplerRows.steps = fullSteps − skippedSteps). */
  readonly skippedSteps: number;
  /**
   * Noise level of the first row: noise a clean latent x0 as
   * `level.alpha · x0 + level.sigma · z` (diffusers' add_noise at the first
   * timestep: √ᾱ_t, √(1 − ᾱ_t) for DDIM/DDPM; the VP level of σ̃ for
   * DPM-Solver/UniPC; α = 1, σ = σ̃ for Euler/Heun, without init_noise_sigma).
   */
  readonly level: NoiseLevel;
}

/** A sampler's output: its rows and what an executor needs around them. */
export interface SamplerRows {
  /** Human-readable description, e.g. "dpmsolver++ 2M (karras)". */
  readonly sampler: string;
  /** Sampler steps of this run (of the partial run when `start` is present). */
  readonly steps: number;
  readonly initNoiseSigma: number;
  /** Noise level of the returned latent. */
  readonly final: NoiseLevel;
  readonly registers: number;
  readonly rows: readonly SamplerRow[];
  /** Present when the run starts part-way (a `strength` was given). */
  readonly start?: PartialStart;
}

export interface ModelEvaluations {
  /** Batch size (branches evaluated) of each row, per image. */
  readonly perRow: readonly number[];
  /** The same summed per sampler step. */
  readonly perStep: readonly number[];
  readonly total: number;
  /** What two-branch classifier-free guidance on every row would cost. */
  readonly fullCfg: number;
  /** 1 − total / fullCfg: the compute this guidance saves, known before running. */
  readonly savedFraction: number;
}

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  readonly sampler: string;
  readonly steps: number;
  readonly initNoiseSigma: number;
  readonly final: NoiseLevel;
  /** History registers plus APG's momentum buffer, if any. */
  readonly registers: number;
  readonly guidance: GuidanceSpec;
  readonly rows: readonly PlanRow[];
  readonly modelEvaluations: ModelEvaluations;
  /** Present when the run starts part-way (image-to-image): the start latent is noised to `start.level`. */
  readonly start?: PartialStart;
}

export const PLAN_FORMAT = 'kiln.plan/1';

/** Model evaluations of a list of rows, from their branch lists alone. */
export function countModelEvaluations(rows: readonly Pick<PlanRow, 'step' | 'branches'>[]): ModelEvaluations {
  const perRow = rows.map((r) => r.branches.length);
  const steps = rows.reduce((n, r) => Math.max(n, r.step + 1), 0);
  const perStep = Array.from({ length: steps }, () => 0);
  rows.forEach((r, i) => (perStep[r.step] = perStep[r.step]! + perRow[i]!));
  const total = perRow.reduce((a, b) => a + b, 0);
  const fullCfg = 2 * rows.length;
  return { perRow, perStep, total, fullCfg, savedFraction: fullCfg === 0 ? 0 : (fullCfg - total) / fullCfg };
}
