// The pooled token of CLIPTextTransformer, as one-hot weights over positions (no argmax op needed).
//  eos_token_id == 2 → transformers' legacy rule: argmax(input_ids), first occurrence;
//  otherwise           the first position whose id is eos_token_id (position 0 when there is none).
import { type Tensor, cast, constant, eq, max, mul, add, sum, reshape } from '../../dsl/index.js';

/** [B, L] one-hot (f32) of the position to pool, from i32 ids [B, L]. */
export function pooledPosition(ids: Tensor, eosTokenId: number): Tensor {
  const L = ids.shape[1] as number;
  const fromEnd = constant(Array.from({ length: L }, (_, i) => L - i), [1, L]);  // earlier position → larger score
  const f = cast(ids, 'f32');
  const hit = eosTokenId === 2 ? eq(f, max(f, -1, true)) : eq(f, eosTokenId);
  const score = eosTokenId === 2 ? mul(hit, fromEnd)
    : add(mul(hit, fromEnd), constant(Array.from({ length: L }, (_, i) => (i === 0 ? 0.5 : 0)), [1, L]));
  return eq(score, max(score, -1, true));
}

/** hidden [B, L, D] at the one-hot positions [B, L] → [B, D]. */
export const poolAt = (hidden: Tensor, oneHot: Tensor): Tensor =>
  sum(mul(hidden, reshape(oneHot, [oneHot.shape[0], oneHot.shape[1], 1])), 1);
