// Turns a sampler's per-row algebra (updates as combinations of x, P, M, z and
// earlier predictions) into SamplerRows: registers allocated, stores placed only
// where a later row reads them.

import { historyDepth, toUpdate, type Combination } from './combination.js';
import type { ClipOp, NoiseLevel, SamplerRow, SamplerRows } from './plan.js';
import type { Conversions } from './prediction.js';
import { skippedSteps } from './strength.js';

/** A row before registers are allocated: its update is a combination, and where it is stored is not known yet. */
export interface RowDraft extends Omit<SamplerRow, 'update' | 'store'> {
  readonly update: Combination;
}

/**
 * The one-stage row of a sampler that feeds the latent to the model as is (cIn 1): it denoises by the level's
 * conversions and predicts x̂₀ or ε̂ with them.
 */
export function unscaledDraft(r: {
  step: number; t: number; level: NoiseLevel; conv: Conversions; predict: 'x0' | 'eps'; clip?: ClipOp; update: Combination;
}): RowDraft {
  return {
    step: r.step, stage: 0, t: r.t, level: r.level, cIn: 1, denoise: r.conv.x0,
    predict: { kind: r.predict, ...r.conv[r.predict] },
    ...(r.clip ? { clip: r.clip } : {}),
    update: r.update,
  };
}

export interface RunDescription {
  readonly sampler: string;
  readonly steps: number;
  readonly initNoiseSigma: number;
  readonly final: NoiseLevel;
}

/**
 * `partial`: the run's strength, if any. Drafts of the skipped steps are
 * dropped and the kept ones renumbered from step 0; a sampler with state must
 * have derived the kept drafts from a fresh state (a read of a prediction from
 * before the first kept row is an internal error).
 */
export function assemble(run: RunDescription, allDrafts: readonly RowDraft[], partial: { strength?: number } = {}): SamplerRows {
  const skip = skippedSteps(run.sampler, run.steps, partial.strength);
  const drafts = skip === 0 ? allDrafts : allDrafts.filter((d) => d.step >= skip).map((d) => ({ ...d, step: d.step - skip }));
  const start =
    partial.strength === undefined
      ? undefined
      : { strength: partial.strength, fullSteps: run.steps, skippedSteps: skip, level: drafts[0]!.level };
  const described = { ...run, steps: run.steps - skip };
  const depth = drafts.reduce((d, draft) => Math.max(d, historyDepth(draft.update)), 0);
  const readLater = drafts.map(() => false);
  drafts.forEach((draft, r) => {
    for (const [key, coef] of Object.entries(draft.update)) {
      if (key.startsWith('P-') && coef !== 0) {
        const source = r - Number(key.slice(2));
        if (source < 0) throw new Error(`internal: row ${r} of ${run.sampler} reads a prediction before the first row`);
        readLater[source] = true;
      }
    }
  });
  const rows: SamplerRow[] = drafts.map((draft, r) => ({
    step: draft.step,
    stage: draft.stage,
    t: draft.t,
    level: draft.level,
    cIn: draft.cIn,
    denoise: draft.denoise,
    predict: draft.predict,
    ...(draft.clip ? { clip: draft.clip } : {}),
    update: toUpdate(draft.update, r, Math.max(depth, 1)),
    ...(readLater[r] ? { store: r % depth } : {}),
  }));
  return { ...described, registers: depth, rows, ...(start ? { start } : {}) };
}
