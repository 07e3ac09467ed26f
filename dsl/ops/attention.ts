import { ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { add, mul } from './elementwise.js';
import { transpose } from './layout.js';
import { matmul } from './linalg.js';
import { softmax } from './reduce.js';

export interface AttentionOptions {
  /** Multiplies QKᵀ; default 1/√d. */
  scale?: number;
  /** Additive mask, broadcastable to [..., Nq, Nk]. */
  mask?: Tensor;
  /** Name under which the probabilities can be captured (they are never written otherwise). */
  probsName?: string;
}

/** softmax(scale·QKᵀ + mask)·V over q [..., Nq, d], k [..., Nk, d], v [..., Nk, dv]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  const what = () => `attention(q: ${fmtShape(q.shape)}, k: ${fmtShape(k.shape)}, v: ${fmtShape(v.shape)})`;
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) throw new ShapeError(`${what()}: q, k, v need the same rank ≥ 2`);
  const d = q.shape[q.rank - 1];
  if (typeof d !== 'number') throw new ShapeError(`${what()}: head dimension must be concrete`);
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(`${what()}: q and k head dims differ (${d} ≠ ${k.shape[k.rank - 1]})`);
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) throw new ShapeError(`${what()}: k and v lengths differ (${k.shape[k.rank - 2]} ≠ ${v.shape[v.rank - 2]})`);
  const batch = broadcastShapes([q.shape.slice(0, -2), k.shape.slice(0, -2), v.shape.slice(0, -2)], what);
  const nq = q.shape[q.rank - 2], nk = k.shape[k.rank - 2];
  if (o.mask) broadcastShapes([o.mask.shape, [...batch, nq, nk]], () => `${what()} mask ${fmtShape(o.mask!.shape)}`);
  const scale = o.scale ?? 1 / Math.sqrt(d);
  return Tensor.make(
    { kind: 'attention', q, k, v, mask: o.mask, scale, probsName: o.probsName },
    [...batch, nq, v.shape[v.rank - 1]],
    q.dtype,
  );
}

/** The probabilities softmax(scale·QKᵀ + mask), as explicit ops. */
export function attentionProbs(q: Tensor, k: Tensor, scale: number, mask?: Tensor): Tensor {
  const s = mul(matmul(q, transpose(k)), scale);
  return softmax(mask ? add(s, mask) : s);
}
