import { ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { fmtShape } from '../shape.js';

/** LayerNorm over the last axis with optional affine weight/bias of shape [C]. */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const c = x.shape[x.rank - 1];
  for (const [n, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== c)) {
      throw new ShapeError(`layerNorm(x: ${fmtShape(x.shape)}, ${n}: ${fmtShape(p.shape)}): ${n} must be [${c}]`);
    }
  }
  return Tensor.make({ kind: 'layerNorm', x, weight, bias, eps }, x.shape, x.dtype);
}

/** GroupNorm over [N, C, ...spatial]: statistics per (n, group), affine per channel. */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const what = () => `groupNorm(x: ${fmtShape(x.shape)}, groups ${groups})`;
  if (x.rank < 2) throw new ShapeError(`${what()}: x must be [N, C, ...]`);
  const c = x.shape[1];
  if (typeof c !== 'number' || !Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new ShapeError(`${what()}: channels ${c} are not divisible into ${groups} groups`);
  }
  for (const [n, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== c)) throw new ShapeError(`${what()}: ${n} ${fmtShape(p.shape)} must be [${c}]`);
  }
  return Tensor.make({ kind: 'groupNorm', x, weight, bias, groups, eps }, x.shape, x.dtype);
}
