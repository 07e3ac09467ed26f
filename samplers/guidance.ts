// Guidance specifications are values: plain JSON-able objects saying which model
// branches each step evaluates and how they combine. plan() applies one to a
// sampler's rows; nothing about guidance is a code path in an executor.

import { GuidanceSpecError } from './errors.js';

/**
 * - `none`: one branch (the `cond` conditioning), no guidance;
 * - `cfg`: classifier-free guidance, M = O_u + s·(O_c − O_u);
 * - `cfgpp`: CFG++ (Chung et al. 2024): the step's x̂₀ comes from the guided
 *   prediction with scale λ (usually in [0, 1]) but it re-noises with the
 *   unconditional ε̂; needs a first-order sampler step;
 * - `apg`: adaptive projected guidance (Sadat et al. 2024) on x̂₀ predictions.
 */
export type GuidanceKind = 'none' | 'cfg' | 'cfgpp' | 'apg';

/** A constant scale, one per sampler step, or a linear ramp from the first step to the last. */
export type ScaleSchedule = number | readonly number[] | { readonly from: number; readonly to: number };

/**
 * A conditioning name for the whole run, or a list of switches: each entry
 * applies from its step (or fraction f of an N-step run, meaning step ⌊f·N⌋,
 * A1111's rule) until the next entry. The first entry starts at step 0.
 * Names are opaque to kiln's samplers; the pipeline resolves them (a prompt,
 * a negative prompt, prompt A with prompt B's [EOS] embeddings, …).
 */
export type ConditioningSchedule = string | readonly ConditioningSwitch[];

export interface ConditioningSwitch {
  readonly name: string;
  readonly fromStep?: number;
  readonly fromFraction?: number;
}

export interface GuidanceSpec {
  readonly kind: GuidanceKind;
  /** Guidance scale (cfg, apg) or λ (cfgpp). Absent for 'none'. */
  readonly scale?: ScaleSchedule;
  /** Default 'cond'. */
  readonly cond?: ConditioningSchedule;
  /** The unconditional branch; a negative prompt is just another name. Default 'uncond'. */
  readonly uncond?: ConditioningSchedule;
  /**
   * From this step (or fraction) on, evaluate only `keep`, with weight 1:
   * keep 'uncond' is Yi et al.'s late-step acceleration, keep 'cond' diffusers'
   * CFG-cutoff callback. Each dropped step saves one model evaluation.
   */
  readonly drop?: { readonly fromStep?: number; readonly fromFraction?: number; readonly keep: 'cond' | 'uncond' };
  /**
   * Guidance only inside an interval (Kynkäänniemi et al. 2024); outside it the
   * conditional branch alone is evaluated. `by: 'progress'`: steps
   * ⌊from·N⌋ ≤ i < ⌊to·N⌋; `by: 'sigma'`: steps whose σ̃ = σ/α lies in (from, to].
   */
  readonly interval?: { readonly from: number; readonly to: number; readonly by: 'progress' | 'sigma' };
  /** Guidance rescale φ (Lin et al. 2023), 0..1. */
  readonly rescale?: number;
  /** APG parameters: η (weight of the parallel component), norm threshold r (0: off), momentum β (0: off). */
  readonly apg?: { readonly eta: number; readonly normThreshold: number; readonly momentum: number };
}

/** A spec plus chainable builders; the builders are non-enumerable, so the value stays plain JSON. */
export type GuidanceBuilder = GuidanceSpec & {
  dropFrom(step: number, o: { keep: 'cond' | 'uncond' }): GuidanceBuilder;
  dropFromFraction(fraction: number, o: { keep: 'cond' | 'uncond' }): GuidanceBuilder;
  withInterval(from: number, to: number, by?: 'progress' | 'sigma'): GuidanceBuilder;
  withRescale(phi: number): GuidanceBuilder;
  negative(name: ConditioningSchedule): GuidanceBuilder;
  conditioning(name: ConditioningSchedule): GuidanceBuilder;
};

export function cfg(scale: ScaleSchedule): GuidanceBuilder {
  return builder(validateGuidance({ kind: 'cfg', scale }));
}

export function cfgPlusPlus(lambda: ScaleSchedule): GuidanceBuilder {
  return builder(validateGuidance({ kind: 'cfgpp', scale: lambda }));
}

export function apg(scale: ScaleSchedule, o: { eta?: number; normThreshold?: number; momentum?: number } = {}): GuidanceBuilder {
  return builder(
    validateGuidance({ kind: 'apg', scale, apg: { eta: o.eta ?? 0, normThreshold: o.normThreshold ?? 0, momentum: o.momentum ?? 0 } }),
  );
}

export function noGuidance(cond: ConditioningSchedule = 'cond'): GuidanceBuilder {
  return builder(validateGuidance({ kind: 'none', cond }));
}

/**
 * A1111's `[a:b:when]` prompt editing as a conditioning schedule: `a` until the
 * switch, `b` after; `when` ≥ 1 is a step count, a fraction in (0, 1) of the
 * run means step ⌊when·N⌋ (A1111 counts its steps from 1 and switches after
 * step `when`, which is step index `when` counted from 0).
 */
export function promptEditing(a: string, b: string, when: number): ConditioningSwitch[] {
  return [{ name: a, fromStep: 0 }, when < 1 ? { name: b, fromFraction: when } : { name: b, fromStep: Math.floor(when) }];
}

function builder(spec: GuidanceSpec): GuidanceBuilder {
  const methods = {
    dropFrom: (step: number, o: { keep: 'cond' | 'uncond' }) => builder(validateGuidance({ ...spec, drop: { fromStep: step, keep: o.keep } })),
    dropFromFraction: (fraction: number, o: { keep: 'cond' | 'uncond' }) =>
      builder(validateGuidance({ ...spec, drop: { fromFraction: fraction, keep: o.keep } })),
    withInterval: (from: number, to: number, by: 'progress' | 'sigma' = 'progress') =>
      builder(validateGuidance({ ...spec, interval: { from, to, by } })),
    withRescale: (phi: number) => builder(validateGuidance({ ...spec, rescale: phi })),
    negative: (name: ConditioningSchedule) => builder(validateGuidance({ ...spec, uncond: name })),
    conditioning: (name: ConditioningSchedule) => builder(validateGuidance({ ...spec, cond: name })),
  };
  const value = { ...spec };
  for (const [key, fn] of Object.entries(methods)) Object.defineProperty(value, key, { value: fn, enumerable: false });
  return Object.freeze(value) as GuidanceBuilder;
}

const TOP_KEYS = ['kind', 'scale', 'cond', 'uncond', 'drop', 'interval', 'rescale', 'apg'] as const;

/**
 * Checks a spec (from JSON or code) on its own: known keys only, numbers where
 * numbers belong, no negative or overlapping step ranges. Checks that need the
 * step count happen when the spec is applied to sampler rows.
 */
export function validateGuidance(value: unknown, source: string = JSON.stringify(value) ?? String(value)): GuidanceSpec {
  const fail = (path: string, expected: string, found: unknown): never => {
    throw new GuidanceSpecError(source, path, expected, found === undefined ? 'nothing' : JSON.stringify(found));
  };
  if (!isRecord(value)) return fail('$', 'an object', value);
  for (const key of Object.keys(value)) if (!(TOP_KEYS as readonly string[]).includes(key)) fail(`$.${key}`, `one of the keys ${TOP_KEYS.join(', ')}`, key);
  const kind = value['kind'];
  if (kind !== 'none' && kind !== 'cfg' && kind !== 'cfgpp' && kind !== 'apg') fail('$.kind', "'none', 'cfg', 'cfgpp' or 'apg'", kind);
  if (kind === 'none') {
    for (const key of ['scale', 'uncond', 'drop', 'interval', 'rescale', 'apg']) {
      if (value[key] !== undefined) fail(`$.${key}`, "nothing for kind 'none' (one branch, no guidance)", value[key]);
    }
  } else {
    const scale = value['scale'];
    if (scale === undefined) fail('$.scale', `a guidance scale for kind '${kind}'`, scale);
    checkScale(scale, fail);
  }
  if (value['cond'] !== undefined) checkConditioning(value['cond'], '$.cond', fail);
  if (value['uncond'] !== undefined) checkConditioning(value['uncond'], '$.uncond', fail);
  const drop = value['drop'];
  if (drop !== undefined) {
    if (!isRecord(drop)) fail('$.drop', 'an object {fromStep | fromFraction, keep}', drop);
    const d = drop as Record<string, unknown>;
    for (const key of Object.keys(d)) if (!['fromStep', 'fromFraction', 'keep'].includes(key)) fail(`$.drop.${key}`, 'fromStep, fromFraction or keep', key);
    checkStart(d, '$.drop', fail, true);
    if (d['keep'] !== 'cond' && d['keep'] !== 'uncond') fail('$.drop.keep', "'cond' or 'uncond' (the branch that survives)", d['keep']);
  }
  const interval = value['interval'];
  if (interval !== undefined) {
    if (!isRecord(interval)) fail('$.interval', 'an object {from, to, by}', interval);
    const iv = interval as Record<string, unknown>;
    for (const key of Object.keys(iv)) if (!['from', 'to', 'by'].includes(key)) fail(`$.interval.${key}`, 'from, to or by', key);
    const by = iv['by'] ?? 'progress';
    if (by !== 'progress' && by !== 'sigma') fail('$.interval.by', "'progress' or 'sigma'", by);
    const from = iv['from'];
    const to = iv['to'];
    if (typeof from !== 'number' || !(from >= 0)) fail('$.interval.from', 'a number ≥ 0', from);
    if (typeof to !== 'number' || !(to > (from as number))) fail('$.interval.to', `a number > from (${String(from)})`, to);
    if (by === 'progress' && !((to as number) <= 1)) fail('$.interval.to', 'a fraction of the run ≤ 1', to);
    if (by === 'sigma' && !Number.isFinite(to as number)) fail('$.interval.to', 'a finite σ', to);
  }
  const rescale = value['rescale'];
  if (rescale !== undefined && (typeof rescale !== 'number' || !(rescale >= 0 && rescale <= 1))) fail('$.rescale', 'a number φ in [0, 1]', rescale);
  const apgParams = value['apg'];
  if (apgParams !== undefined) {
    if (kind !== 'apg') fail('$.apg', "nothing unless kind is 'apg'", apgParams);
    if (!isRecord(apgParams)) fail('$.apg', 'an object {eta, normThreshold, momentum}', apgParams);
    const p = apgParams as Record<string, unknown>;
    for (const key of Object.keys(p)) if (!['eta', 'normThreshold', 'momentum'].includes(key)) fail(`$.apg.${key}`, 'eta, normThreshold or momentum', key);
    if (typeof p['eta'] !== 'number' || !Number.isFinite(p['eta'])) fail('$.apg.eta', 'a finite number', p['eta']);
    if (typeof p['normThreshold'] !== 'number' || !(p['normThreshold'] >= 0)) fail('$.apg.normThreshold', 'a number ≥ 0 (0 turns it off)', p['normThreshold']);
    if (typeof p['momentum'] !== 'number' || !(Math.abs(p['momentum']) < 1)) fail('$.apg.momentum', 'a number in (−1, 1) (0 turns it off)', p['momentum']);
  } else if (kind === 'apg') fail('$.apg', "APG parameters {eta, normThreshold, momentum} for kind 'apg'", apgParams);
  return value as unknown as GuidanceSpec;
}

type Fail = (path: string, expected: string, found: unknown) => never;

function checkScale(scale: unknown, fail: Fail): void {
  if (typeof scale === 'number') {
    if (!(scale >= 0 && Number.isFinite(scale))) fail('$.scale', 'a finite number ≥ 0', scale);
  } else if (Array.isArray(scale)) {
    if (scale.length === 0) fail('$.scale', 'one scale per step', scale);
    scale.forEach((s, i) => {
      if (typeof s !== 'number' || !(s >= 0 && Number.isFinite(s))) fail(`$.scale[${i}]`, 'a finite number ≥ 0', s);
    });
  } else if (isRecord(scale)) {
    for (const key of Object.keys(scale)) if (key !== 'from' && key !== 'to') fail(`$.scale.${key}`, 'from or to (a linear ramp)', key);
    for (const key of ['from', 'to']) {
      const v = scale[key];
      if (typeof v !== 'number' || !(v >= 0 && Number.isFinite(v))) fail(`$.scale.${key}`, 'a finite number ≥ 0', v);
    }
  } else fail('$.scale', 'a number, a list of numbers (one per step) or {from, to}', scale);
}

function checkConditioning(value: unknown, path: string, fail: Fail): void {
  if (typeof value === 'string') {
    if (value.length === 0) fail(path, 'a non-empty conditioning name', value);
    return;
  }
  if (!Array.isArray(value) || value.length === 0) return fail(path, 'a conditioning name or a non-empty list of {name, fromStep | fromFraction}', value);
  let previous: { step?: number; fraction?: number; index: number } | undefined;
  value.forEach((entry: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(entry)) fail(at, 'an object {name, fromStep | fromFraction}', entry);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!['name', 'fromStep', 'fromFraction'].includes(key)) fail(`${at}.${key}`, 'name, fromStep or fromFraction', key);
    if (typeof e['name'] !== 'string' || e['name'].length === 0) fail(`${at}.name`, 'a non-empty conditioning name', e['name']);
    if (i === 0) {
      if ((e['fromStep'] ?? 0) !== 0 || (e['fromFraction'] ?? 0) !== 0) fail(`${at}`, 'the first entry to start at step 0', e);
    } else checkStart(e, at, fail, false);
    const current = { step: e['fromStep'] as number | undefined, fraction: e['fromFraction'] as number | undefined, index: i };
    if (previous && i > 0) {
      const overlap =
        (current.step !== undefined && previous.step !== undefined && current.step <= previous.step) ||
        (current.fraction !== undefined && previous.fraction !== undefined && current.fraction <= previous.fraction);
      if (overlap) {
        fail(at, `a start after entry ${previous.index} (${describeStart(previous)}); ranges must not overlap`, e);
      }
    }
    previous = i === 0 ? { step: 0, fraction: 0, index: 0 } : current;
  });
}

function checkStart(e: Record<string, unknown>, path: string, fail: Fail, allowStepZero: boolean): void {
  const step = e['fromStep'];
  const fraction = e['fromFraction'];
  if ((step === undefined) === (fraction === undefined)) fail(path, 'exactly one of fromStep and fromFraction', e);
  if (step !== undefined && (typeof step !== 'number' || !Number.isInteger(step) || step < (allowStepZero ? 0 : 1))) {
    fail(`${path}.fromStep`, `an integer step ≥ ${allowStepZero ? 0 : 1}`, step);
  }
  if (fraction !== undefined && (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))) {
    fail(`${path}.fromFraction`, 'a fraction of the run in (0, 1)', fraction);
  }
}

function describeStart(s: { step?: number; fraction?: number }): string {
  return s.step !== undefined ? `step ${s.step}` : `fraction ${s.fraction}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Step index of a fraction f of an N-step run (A1111's rule). */
export function stepOfFraction(fraction: number, steps: number): number {
  return Math.floor(fraction * steps);
}
