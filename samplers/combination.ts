// Samplers derive their updates as linear combinations of a few quantities and
// let this file turn them into plan data. Writing "x_i in terms of x_mid and the
// stored x0" as algebra on these records keeps each sampler a page of maths.

import type { RegisterTerm, Update } from './plan.js';

/**
 * Coefficients keyed by quantity: 'x' the current latent, 'P' this row's
 * prediction, 'M' the combined model output, 'z' fresh noise, and 'P-k' the
 * prediction of the row k rows earlier (k ≥ 1).
 */
export type Combination = Readonly<Record<string, number>>;

export const earlier = (k: number): string => `P-${k}`;

export function sum(...parts: Combination[]): Combination {
  const out: Record<string, number> = {};
  for (const part of parts) for (const [key, value] of Object.entries(part)) out[key] = (out[key] ?? 0) + value;
  return out;
}

export function times(k: number, c: Combination): Combination {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(c)) out[key] = k * value;
  return out;
}

/** The deepest history this combination reads (0 if none). */
export function historyDepth(c: Combination): number {
  let depth = 0;
  for (const key of Object.keys(c)) if (key.startsWith('P-')) depth = Math.max(depth, Number(key.slice(2)));
  return depth;
}

/**
 * Row `row`'s update. Row r stores its prediction in register r mod `depth`, so
 * the prediction of row r−k lives in register (r−k) mod depth — a rotation
 * without copies, valid because a row reads registers before it writes one.
 */
export function toUpdate(c: Combination, row: number, depth: number): Update {
  const history: RegisterTerm[] = [];
  let noise: number | undefined;
  let out: number | undefined;
  for (const [key, coef] of Object.entries(c)) {
    if (key.startsWith('P-')) {
      const k = Number(key.slice(2));
      if (coef !== 0) history.push({ register: (row - k) % depth, coef: clean(coef) });
    } else if (key === 'z') noise = clean(coef);
    else if (key === 'M') out = clean(coef);
    else if (key !== 'x' && key !== 'P') throw new Error(`internal: unknown quantity '${key}' in an update`);
  }
  history.sort((a, b) => a.register - b.register);
  return {
    x: clean(c['x'] ?? 0),
    pred: clean(c['P'] ?? 0),
    ...(out !== undefined && out !== 0 ? { out } : {}),
    history,
    ...(noise !== undefined ? { noise } : {}),
  };
}

/** −0 → 0, so that plans survive a JSON round trip unchanged. */
export function clean(value: number): number {
  return value === 0 ? 0 : value;
}
