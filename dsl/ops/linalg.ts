import { ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { add } from './elementwise.js';
import { transpose } from './layout.js';

/** Batched matmul [..., M, K] × [..., K, N] → [..., M, N], batch dims broadcast like NumPy. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const what = () => `matmul(a: ${fmtShape(a.shape)}, b: ${fmtShape(b.shape)})`;
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`${what()}: both operands need rank ≥ 2`);
  const k1 = a.shape[a.rank - 1], k2 = b.shape[b.rank - 2];
  if (k1 !== k2) throw new ShapeError(`${what()}: inner dimensions differ (${k1} ≠ ${k2})`);
  const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], what);
  return Tensor.make({ kind: 'matmul', a, b }, [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]], a.dtype);
}

/** PyTorch's Linear: x · Wᵀ + b with W stored [out, in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const what = () => `linear(x: ${fmtShape(x.shape)}, w: ${fmtShape(w.shape)}${b ? `, b: ${fmtShape(b.shape)}` : ''})`;
  if (w.rank !== 2) throw new ShapeError(`${what()}: weight must be [out, in]`);
  if (x.shape[x.rank - 1] !== w.shape[1]) {
    throw new ShapeError(`${what()}: in-features ${x.shape[x.rank - 1]} ≠ ${w.shape[1]}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) throw new ShapeError(`${what()}: bias must be [${w.shape[0]}]`);
  const y = matmul(x, transpose(w));
  return b ? add(y, b) : y;
}
