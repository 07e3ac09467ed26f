import { ShapeError } from '../errors.js';
import { type ReduceFn, Tensor } from '../node.js';
import { fmtShape, normAxis } from '../shape.js';
import { add, div, exp, mul, rsqrt, sub } from './elementwise.js';

function reduce(fn: ReduceFn) {
  return (x: Tensor, axes: number | readonly number[] = x.shape.map((_, i) => i), keepdims = false): Tensor => {
    const list = typeof axes === 'number' ? [axes] : axes;
    const what = () => `${fn}(x: ${fmtShape(x.shape)}, axes [${list.join(',')}])`;
    const ax = [...new Set(list.map((a) => normAxis(a, x.rank, what)))].sort((a, b) => a - b);
    if (ax.length === 0) return x;
    for (const a of ax) if (typeof x.shape[a] !== 'number') throw new ShapeError(`${what()}: cannot reduce a symbolic dimension`);
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    return Tensor.make({ kind: 'reduce', fn, x, axes: ax, keepdims }, shape, x.dtype === 'i32' ? 'f32' : x.dtype);
  };
}

export const sum = reduce('sum');
export const mean = reduce('mean');
export const max = reduce('max');

/** Softmax over the last axis: one fused row kernel on the device. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis(axis, x.rank, () => `softmax(x: ${fmtShape(x.shape)}, axis ${axis})`);
  if (a !== x.rank - 1) throw new ShapeError(`softmax(x: ${fmtShape(x.shape)}, axis ${axis}): only the last axis is supported; permute first`);
  return Tensor.make({ kind: 'softmax', x }, x.shape, x.dtype);
}

/** Softmax spelled out with reductions: the reference semantics the fused op must match. */
export function softmaxDecomposed(x: Tensor): Tensor {
  const e = exp(sub(x, max(x, -1, true)));
  return div(e, sum(e, -1, true));
}

/** Normalise over the last axis: (x - mean) / sqrt(var + eps), biased variance. */
export function normalizeLastAxis(x: Tensor, eps: number): Tensor {
  const c = sub(x, mean(x, -1, true));
  return mul(c, rsqrt(add(mean(mul(c, c), -1, true), eps)));
}
