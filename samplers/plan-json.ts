// Plans as JSON text: what a CLI saves, what a GPU executor or another process
// loads. Loading checks the structure, so an executor can trust every index.

import { match } from 'ts-pattern';
import { PlanFormatError } from './errors.js';
import { validateGuidance } from './guidance.js';
import { countModelEvaluations, PLAN_FORMAT, type Plan, type PlanRow } from './plan.js';

export function serializePlan(plan: Plan): string {
  return JSON.stringify(plan);
}

export function deserializePlan(text: string): Plan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PlanFormatError('text', 'JSON', (e as Error).message);
  }
  return checkPlan(value);
}

/** Checks that a parsed value has the plan format; returns it typed. */
export function checkPlan(value: unknown): Plan {
  const p = record(value, '$');
  if (p['format'] !== PLAN_FORMAT) throw new PlanFormatError('$.format', JSON.stringify(PLAN_FORMAT), p['format']);
  str(p['sampler'], '$.sampler');
  const steps = int(p['steps'], '$.steps', 1);
  num(p['initNoiseSigma'], '$.initNoiseSigma');
  level(p['final'], '$.final');
  const registers = int(p['registers'], '$.registers', 0);
  validateGuidance(p['guidance']);
  const rows = p['rows'];
  if (!Array.isArray(rows) || rows.length === 0) throw new PlanFormatError('$.rows', 'a non-empty list of rows', rows);
  rows.forEach((row, i) => checkRow(row, `$.rows[${i}]`, registers, steps));
  if (p['start'] !== undefined) {
    const s = record(p['start'], '$.start');
    const strength = num(s['strength'], '$.start.strength');
    if (!(strength > 0 && strength <= 1)) throw new PlanFormatError('$.start.strength', 'a number in (0, 1]', strength);
    const full = int(s['fullSteps'], '$.start.fullSteps', steps);
    const skipped = int(s['skippedSteps'], '$.start.skippedSteps', 0);
    if (skipped + steps !== full) throw new PlanFormatError('$.start.skippedSteps', `fullSteps − steps = ${full - steps}`, skipped);
    level(s['level'], '$.start.level');
  }
  const counted = countModelEvaluations(rows as PlanRow[]);
  if (JSON.stringify(counted) !== JSON.stringify(p['modelEvaluations'])) {
    throw new PlanFormatError('$.modelEvaluations', `the counts of the rows' branches ${JSON.stringify(counted)}`, p['modelEvaluations']);
  }
  return value as Plan;
}

function checkRow(value: unknown, path: string, registers: number, steps: number): void {
  const r = record(value, path);
  const step = int(r['step'], `${path}.step`, 0);
  if (step >= steps) throw new PlanFormatError(`${path}.step`, `a step below ${steps}`, step);
  int(r['stage'], `${path}.stage`, 0);
  num(r['t'], `${path}.t`);
  level(r['level'], `${path}.level`);
  num(r['cIn'], `${path}.cIn`);
  affine(r['denoise'], `${path}.denoise`, ['x', 'out']);
  const predict = affine(r['predict'], `${path}.predict`, ['x', 'out']);
  if (predict['kind'] !== 'x0' && predict['kind'] !== 'eps') throw new PlanFormatError(`${path}.predict.kind`, "'x0' or 'eps'", predict['kind']);
  const branches = r['branches'];
  if (!Array.isArray(branches) || branches.length === 0) throw new PlanFormatError(`${path}.branches`, 'a non-empty list of conditioning names', branches);
  branches.forEach((b, k) => str(b, `${path}.branches[${k}]`));
  const branchIndex = (v: unknown, at: string): number => {
    const k = int(v, at, 0);
    if (k >= branches.length) throw new PlanFormatError(at, `a branch index below ${branches.length}`, k);
    return k;
  };
  const registerIndex = (v: unknown, at: string): number => {
    const k = int(v, at, 0);
    if (k >= registers) throw new PlanFormatError(at, `a register below ${registers}`, k);
    return k;
  };
  const combine = record(r['combine'], `${path}.combine`);
  match(combine['kind'])
    .with('weighted', () => {
      const w = combine['weights'];
      if (!Array.isArray(w) || w.length !== branches.length) {
        throw new PlanFormatError(`${path}.combine.weights`, `${branches.length} weights, one per branch`, w);
      }
      w.forEach((x, k) => num(x, `${path}.combine.weights[${k}]`));
    })
    .with('apg', () => {
      branchIndex(combine['cond'], `${path}.combine.cond`);
      branchIndex(combine['uncond'], `${path}.combine.uncond`);
      for (const key of ['scale', 'eta', 'normThreshold']) num(combine[key], `${path}.combine.${key}`);
      if (combine['momentum'] !== undefined) {
        const m = record(combine['momentum'], `${path}.combine.momentum`);
        num(m['beta'], `${path}.combine.momentum.beta`);
        registerIndex(m['register'], `${path}.combine.momentum.register`);
      }
    })
    .otherwise((kind) => {
      throw new PlanFormatError(`${path}.combine.kind`, "'weighted' or 'apg'", kind);
    });
  if (r['rescale'] !== undefined) {
    const rs = record(r['rescale'], `${path}.rescale`);
    num(rs['phi'], `${path}.rescale.phi`);
    branchIndex(rs['reference'], `${path}.rescale.reference`);
  }
  if (r['clip'] !== undefined) {
    const c = record(r['clip'], `${path}.clip`);
    match(c['kind'])
      .with('clamp', () => num(c['range'], `${path}.clip.range`))
      .with('dynamic', () => {
        num(c['ratio'], `${path}.clip.ratio`);
        num(c['maxValue'], `${path}.clip.maxValue`);
      })
      .otherwise((kind) => {
        throw new PlanFormatError(`${path}.clip.kind`, "'clamp' or 'dynamic'", kind);
      });
    affine(c['toX0'], `${path}.clip.toX0`, ['x', 'pred']);
    affine(c['fromX0'], `${path}.clip.fromX0`, ['x', 'x0']);
  }
  const u = record(r['update'], `${path}.update`);
  num(u['x'], `${path}.update.x`);
  num(u['pred'], `${path}.update.pred`);
  if (u['out'] !== undefined) num(u['out'], `${path}.update.out`);
  if (u['noise'] !== undefined) num(u['noise'], `${path}.update.noise`);
  if (u['uncond'] !== undefined) {
    const un = record(u['uncond'], `${path}.update.uncond`);
    branchIndex(un['branch'], `${path}.update.uncond.branch`);
    num(un['coef'], `${path}.update.uncond.coef`);
  }
  const history = u['history'];
  if (!Array.isArray(history)) throw new PlanFormatError(`${path}.update.history`, 'a list of {register, coef}', history);
  history.forEach((h, k) => {
    const term = record(h, `${path}.update.history[${k}]`);
    registerIndex(term['register'], `${path}.update.history[${k}].register`);
    num(term['coef'], `${path}.update.history[${k}].coef`);
  });
  if (r['store'] !== undefined) registerIndex(r['store'], `${path}.store`);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PlanFormatError(path, 'an object', value);
  return value as Record<string, unknown>;
}

function num(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new PlanFormatError(path, 'a finite number', value);
  return value;
}

function int(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new PlanFormatError(path, `an integer ≥ ${min}`, value);
  return value;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new PlanFormatError(path, 'a string', value);
  return value;
}

function level(value: unknown, path: string): void {
  const l = record(value, path);
  num(l['alpha'], `${path}.alpha`);
  num(l['sigma'], `${path}.sigma`);
}

function affine(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  const a = record(value, path);
  for (const key of keys) num(a[key], `${path}.${key}`);
  return a;
}
