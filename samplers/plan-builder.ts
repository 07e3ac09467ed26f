// plan(samplerRows, guidance): decides per row which branches are evaluated and
// how they combine, checks what needs the step count, and returns the Plan.

import { match } from 'ts-pattern';
import { clean } from './combination.js';
import { PlanError } from './errors.js';
import { validateGuidance, stepOfFraction, type ConditioningSchedule, type GuidanceSpec, type ScaleSchedule } from './guidance.js';
import { countModelEvaluations, PLAN_FORMAT, type Combine, type Plan, type PlanRow, type SamplerRow, type SamplerRows, type Update } from './plan.js';

export function plan(sampler: SamplerRows, guidance: GuidanceSpec): Plan {
  const spec = validateGuidance(stripBuilders(guidance));
  const N = sampler.steps;
  const where = (step: number) => `plan(${sampler.sampler}, ${N} steps) step ${step}`;
  const scales = scalePerStep(spec.scale, N, sampler.sampler);
  const condAt = conditioningPerStep(spec.cond ?? 'cond', N, '$.cond', sampler.sampler);
  const uncondAt = conditioningPerStep(spec.uncond ?? 'uncond', N, '$.uncond', sampler.sampler);
  const dropStep = spec.drop ? startStep(spec.drop, N, '$.drop', sampler.sampler) : Infinity;
  const momentumRegister = spec.kind === 'apg' && spec.apg!.momentum !== 0 ? sampler.registers : undefined;

  const inInterval = (row: SamplerRow): boolean => {
    const iv = spec.interval;
    if (!iv) return true;
    if (iv.by === 'progress') return row.step >= stepOfFraction(iv.from, N) && row.step < stepOfFraction(iv.to, N);
    const sigma = row.level.sigma / row.level.alpha;
    return sigma > iv.from && sigma <= iv.to;
  };

  const rows = sampler.rows.map((row): PlanRow => {
    const cond = condAt[row.step]!;
    const uncond = uncondAt[row.step]!;
    const single = (name: string): PlanRow => ({ ...row, branches: [name], combine: { kind: 'weighted', weights: [1] } });
    if (spec.kind === 'none') return single(cond);
    if (row.step >= dropStep) return single(spec.drop!.keep === 'cond' ? cond : uncond);
    if (!inInterval(row)) return single(cond);
    const s = scales[row.step]!;
    const rescale = spec.rescale !== undefined && spec.rescale > 0 ? { phi: spec.rescale, reference: 1 } : undefined;
    return match(spec.kind)
      .with('cfg', (): PlanRow => {
        // Like diffusers, a branch whose weight is exactly 0 is not evaluated (unless rescale needs it).
        if (s === 1 && !rescale) return single(cond);
        if (s === 0 && !rescale) return single(uncond);
        return { ...row, branches: [uncond, cond], combine: { kind: 'weighted', weights: [clean(1 - s), s] }, ...(rescale ? { rescale } : {}) };
      })
      .with('cfgpp', (): PlanRow => ({
        ...row,
        branches: [uncond, cond],
        combine: { kind: 'weighted', weights: [clean(1 - s), s] },
        ...(rescale ? { rescale } : {}),
        update: cfgPlusPlusUpdate(row, where(row.step)),
      }))
      .with('apg', (): PlanRow => {
        const p = spec.apg!;
        const combine: Combine = {
          kind: 'apg',
          cond: 1,
          uncond: 0,
          scale: s,
          eta: p.eta,
          normThreshold: p.normThreshold,
          ...(momentumRegister !== undefined ? { momentum: { beta: p.momentum, register: momentumRegister } } : {}),
        };
        return { ...row, branches: [uncond, cond], combine, ...(rescale ? { rescale } : {}) };
      })
      .exhaustive();
  });
  rows.forEach((row, i) => checkFinite(row, `${where(row.step)} (row ${i})`));
  return {
    format: PLAN_FORMAT,
    sampler: sampler.sampler,
    steps: N,
    initNoiseSigma: sampler.initNoiseSigma,
    final: sampler.final,
    registers: sampler.registers + (momentumRegister !== undefined ? 1 : 0),
    guidance: spec,
    rows,
    modelEvaluations: countModelEvaluations(rows),
    ...(sampler.start ? { start: sampler.start } : {}),
  };
}

/**
 * The compute a guidance spec saves relative to two-branch CFG on every row,
 * known before anything runs.
 */
export function guidanceSavings(sampler: SamplerRows, guidance: GuidanceSpec): number {
  return plan(sampler, guidance).modelEvaluations.savedFraction;
}

/**
 * CFG++ keeps the step's x̂₀ from the guided output but re-noises with the
 * unconditional ε̂. A first-order row's update x' = u_x·x + u_P·P + u_M·M (+ noise)
 * splits its (x, M) part into A·x̂₀(M) + B·ε̂(M); CFG++ moves B·ε̂ onto the
 * unconditional branch: u_M ← u_M − B·ε_out, uncond coefficient B·ε_out.
 */
function cfgPlusPlusUpdate(row: SamplerRow, where: string): Update {
  const u = row.update;
  if (u.history.length > 0 || row.predict.kind !== 'x0') {
    throw new PlanError(
      `${where}: CFG++`,
      'a first-order sampler step (ddim, ddpm, euler, euler-ancestral, or a DPM-Solver++ step of order 1)',
      `a step that reads ${u.history.length} earlier prediction(s)${row.predict.kind === 'x0' ? '' : ' and works on ε'}`,
    );
  }
  const { alpha, sigma } = row.level;
  if (sigma === 0) throw new PlanError(`${where}: CFG++`, 'a noisy latent (σ > 0) to re-noise', 'σ = 0');
  const d = row.denoise;
  const e = { x: (1 - alpha * d.x) / sigma, out: (-alpha * d.out) / sigma };
  const ux = u.x;
  const uo = u.out ?? 0;
  // Solve A·d + B·e = (ux, uo) for B.
  const det = d.x * e.out - e.x * d.out;
  const B = (d.x * uo - d.out * ux) / det;
  const { out: _unused, ...rest } = u;
  const out = clean(uo - B * e.out);
  return { ...rest, ...(out !== 0 ? { out } : {}), uncond: { branch: 0, coef: clean(B * e.out) } };
}

function scalePerStep(scale: ScaleSchedule | undefined, N: number, sampler: string): number[] {
  if (scale === undefined) return Array.from({ length: N }, () => 1);
  if (typeof scale === 'number') return Array.from({ length: N }, () => scale);
  if (Array.isArray(scale)) {
    if (scale.length !== N) throw new PlanError(`plan(${sampler}, ${N} steps) guidance $.scale`, `${N} scales, one per step`, `${scale.length}`);
    return [...scale];
  }
  const ramp = scale as { from: number; to: number };
  return Array.from({ length: N }, (_, i) => (N === 1 ? ramp.from : ramp.from + ((ramp.to - ramp.from) * i) / (N - 1)));
}

function startStep(s: { fromStep?: number; fromFraction?: number }, N: number, path: string, sampler: string): number {
  const step = s.fromStep ?? stepOfFraction(s.fromFraction!, N);
  if (step >= N) {
    const given = s.fromStep !== undefined ? `step ${s.fromStep}` : `fraction ${s.fromFraction} = step ${step}`;
    throw new PlanError(`plan(${sampler}, ${N} steps) guidance ${path}`, `a step before the end (0..${N - 1})`, `${given}, past the last step ${N - 1}`);
  }
  return step;
}

function conditioningPerStep(schedule: ConditioningSchedule, N: number, path: string, sampler: string): string[] {
  if (typeof schedule === 'string') return Array.from({ length: N }, () => schedule);
  const starts = schedule.map((entry, i) => (i === 0 ? 0 : startStep(entry, N, `${path}[${i}]`, sampler)));
  starts.forEach((start, i) => {
    if (i > 0 && start <= starts[i - 1]!) {
      throw new PlanError(
        `plan(${sampler}, ${N} steps) guidance ${path}[${i}]`,
        `a start after entry ${i - 1}'s step ${starts[i - 1]} (ranges must not overlap)`,
        `step ${start}`,
      );
    }
  });
  return Array.from({ length: N }, (_, step) => {
    let k = 0;
    while (k + 1 < starts.length && starts[k + 1]! <= step) k++;
    return schedule[k]!.name;
  });
}

function checkFinite(row: PlanRow, where: string): void {
  const bad = findNonFinite(row);
  if (bad !== undefined) {
    throw new PlanError(
      where,
      'finite coefficients',
      `${bad.path} = ${bad.value} (the reference scheduler is not finite here either: e.g. ε-prediction at ᾱ = 0, ` +
        `where x̂₀ is undefined, or a step of zero length in λ)`,
    );
  }
}

function findNonFinite(value: unknown, path = 'row'): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, value };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findNonFinite(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      const bad = findNonFinite(v, `${path}.${key}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

function stripBuilders(spec: GuidanceSpec): GuidanceSpec {
  return JSON.parse(JSON.stringify(spec)) as GuidanceSpec;
}
