import { KilnError } from '../../dsl/errors.js';
import {
  type Tensor, add, div, expand, gt, input, maximum, minimum, mul, reshape, scalar, slice, sqrt, sub, sum, where,
} from '../../dsl/index.js';
import type { PlanRow } from '../../samplers/plan.js';

/**
 * One plan row as a device program: model input, the batched UNet call over the row's branches, the
 * combination, rescale, prediction, clipping, update and register stores — the row semantics of
 * samplers/plan.ts, with every coefficient a per-run scalar so one program serves every row of its
 * structure. The latent and the registers come back as outputs that the executor feeds back on the GPU.
 */
export interface RowStructure {
  branches: number;
  combine: 'weighted' | 'apg';
  momentum: boolean;
  rescale: boolean;
  clamp: boolean;
  noise: boolean;
  registers: number;
}

export function rowStructure(row: PlanRow, registers: number): RowStructure {
  if (row.clip?.kind === 'dynamic') {
    throw new UnsupportedRowError('dynamic thresholding (clip kind "dynamic") needs a per-image quantile, which the device executor does not implement; use the host executor');
  }
  return {
    branches: row.branches.length,
    combine: row.combine.kind,
    momentum: row.combine.kind === 'apg' && !!row.combine.momentum,
    rescale: !!row.rescale,
    clamp: row.clip?.kind === 'clamp',
    noise: row.update.noise !== undefined,
    registers,
  };
}

export const structureKey = (s: RowStructure) => JSON.stringify(s);

/** A plan row asks for something this executor cannot do on the device. */
export class UnsupportedRowError extends KilnError {}

export type ModelFn = (sample: Tensor, timesteps: Tensor, context: Tensor) => Tensor;

export interface StepGraph {
  /** Outputs: the next latent, then each register's next value. */
  outputs: Tensor[];
  /** Input name ← output it is fed from after each run. */
  feedback: Record<string, Tensor>;
}

/** Per-image sums over all but the batch axis, kept broadcastable. */
const perImage = (x: Tensor) => sum(x, [1, 2, 3], true);

export function buildStepGraph(s: RowStructure, latentShape: readonly number[], contextShape: readonly number[], model: ModelFn): StepGraph {
  const [b, c, h, w] = latentShape;
  const u = (name: string) => input(name, []);
  const x = input('x', latentShape);
  const regs = Array.from({ length: s.registers }, (_, j) => input(`r${j}`, latentShape));
  const context = input('context', [s.branches * b, ...contextShape]);

  // 1. model input, all branches in one batch
  const scaled = mul(x, u('c_in'));
  const batch = s.branches === 1 ? scaled : reshape(expand(reshape(scaled, [1, b, c, h, w]), [s.branches, b, c, h, w]), [s.branches * b, c, h, w]);
  const t = expand(reshape(u('t'), [1]), [s.branches * b]);
  const out = model(batch, t, context);
  const O = Array.from({ length: s.branches }, (_, k) => (s.branches === 1 ? out : slice(out, 0, k * b, (k + 1) * b)));

  // 2. combine
  let M: Tensor;
  let momentum: Tensor | undefined;
  if (s.combine === 'weighted') {
    M = O.map((o, k) => mul(o, u(`w${k}`))).reduce((a, v) => add(a, v));
  } else {
    const pick = (name: string) => O.map((o, k) => mul(o, u(`${name}${k}`))).reduce((a, v) => add(a, v));
    const D = (o: Tensor) => add(mul(x, u('dn_x')), mul(o, u('dn_out')));
    const dc = D(pick('apg_c')), du = D(pick('apg_u'));
    let delta = sub(dc, du);
    if (s.momentum) {
      // the momentum buffer is the register named by apg_mreg (a one-hot over registers)
      const prev = regs.map((r, j) => mul(r, u(`apg_m${j}`))).reduce((a, v) => add(a, v), scalar(0) as Tensor);
      momentum = add(delta, mul(prev, u('apg_beta')));
      delta = momentum;
    }
    const thr = u('apg_thr');
    const norm = sqrt(perImage(mul(delta, delta)));
    delta = mul(delta, where(gt(thr, 0), minimum(scalar(1), div(thr, norm)), scalar(1)));
    const par = mul(div(perImage(mul(delta, dc)), perImage(mul(dc, dc))), dc);
    const perp = sub(delta, par);
    const Dg = add(dc, mul(add(perp, mul(par, u('apg_eta'))), sub(u('apg_scale'), 1)));
    M = div(sub(Dg, mul(x, u('dn_x'))), u('dn_out'));
  }

  // 3. guidance rescale with the unbiased per-image std
  if (s.rescale) {
    const n = c * h * w;
    const std = (v: Tensor) => sqrt(div(perImage(mul(sub(v, div(perImage(v), n)), sub(v, div(perImage(v), n)))), n - 1));
    const ref = O.map((o, k) => mul(o, u(`rs_ref${k}`))).reduce((a, v) => add(a, v));
    const phi = u('rs_phi');
    M = add(mul(mul(M, div(std(ref), std(M))), phi), mul(M, sub(1, phi)));
  }

  // 4. prediction, 5. clamp
  let P = add(mul(x, u('p_x')), mul(M, u('p_out')));
  if (s.clamp) {
    const X = add(mul(x, u('cl_tx')), mul(P, u('cl_tp')));
    const range = u('cl_range');
    const Xc = maximum(minimum(X, range), mul(range, -1));
    P = add(mul(x, u('cl_fx')), mul(Xc, u('cl_fx0')));
  }

  // 6. update
  let next = add(add(mul(x, u('up_x')), mul(P, u('up_pred'))), mul(M, u('up_out')));
  next = O.reduce((acc, o, k) => add(acc, mul(o, u(`up_b${k}`))), next);
  next = regs.reduce((acc, r, j) => add(acc, mul(r, u(`up_r${j}`))), next);
  if (s.noise) next = add(next, mul(input('z', latentShape), u('up_noise')));

  // 7. stores: each register keeps its value, takes P, or takes APG's momentum
  const regsNext = regs.map((r, j) => {
    let v = add(mul(r, sub(1, u(`st_p${j}`))), mul(P, u(`st_p${j}`)));
    if (momentum) v = add(mul(v, sub(1, u(`st_m${j}`))), mul(momentum, u(`st_m${j}`)));
    return v;
  });
  const feedback: Record<string, Tensor> = { x: next };
  regsNext.forEach((r, j) => (feedback[`r${j}`] = r));
  return { outputs: [next, ...regsNext], feedback };
}

/** The per-run scalars of a row, matching the names buildStepGraph declares. */
export function rowScalars(row: PlanRow, s: RowStructure): Record<string, number> {
  const v: Record<string, number> = { c_in: row.cIn, t: row.t };
  const oneHot = (prefix: string, n: number, at: number | undefined) => {
    for (let k = 0; k < n; k++) v[`${prefix}${k}`] = k === at ? 1 : 0;
  };
  if (row.combine.kind === 'weighted') row.combine.weights.forEach((w, k) => (v[`w${k}`] = w));
  else {
    const a = row.combine;
    oneHot('apg_c', s.branches, a.cond);
    oneHot('apg_u', s.branches, a.uncond);
    Object.assign(v, { dn_x: row.denoise.x, dn_out: row.denoise.out, apg_thr: a.normThreshold, apg_eta: a.eta, apg_scale: a.scale });
    if (a.momentum) {
      v.apg_beta = a.momentum.beta;
      oneHot('apg_m', s.registers, a.momentum.register);
    }
  }
  if (row.rescale) {
    v.rs_phi = row.rescale.phi;
    oneHot('rs_ref', s.branches, row.rescale.reference);
  }
  Object.assign(v, { p_x: row.predict.x, p_out: row.predict.out });
  if (row.clip?.kind === 'clamp') {
    Object.assign(v, { cl_tx: row.clip.toX0.x, cl_tp: row.clip.toX0.pred, cl_range: row.clip.range, cl_fx: row.clip.fromX0.x, cl_fx0: row.clip.fromX0.x0 });
  }
  const up = row.update;
  Object.assign(v, { up_x: up.x, up_pred: up.pred, up_out: up.out ?? 0 });
  for (let k = 0; k < s.branches; k++) v[`up_b${k}`] = up.uncond && up.uncond.branch === k ? up.uncond.coef : 0;
  for (let j = 0; j < s.registers; j++) v[`up_r${j}`] = up.history.filter((h) => h.register === j).reduce((a, h) => a + h.coef, 0);
  if (up.noise !== undefined) v.up_noise = up.noise;
  const momentumReg = row.combine.kind === 'apg' ? row.combine.momentum?.register : undefined;
  for (let j = 0; j < s.registers; j++) {
    v[`st_p${j}`] = row.store === j ? 1 : 0;
    if (s.momentum) v[`st_m${j}`] = momentumReg === j ? 1 : 0;
  }
  return v;
}

