// diffusers' Attention (AttnProcessor): to_q/to_k/to_v → heads → softmax(scale·QKᵀ)·V → to_out.0.
import {
  type Tensor, ArgumentError, attention as attend, constant, input, module, nn, permute, reshape, tag, where,
} from '../../dsl/index.js';
import { type AttentionOverrides, resolveScale, resolveSubstitution, type Sub } from './variant.js';

export interface AttentionSpec {
  /** Module path, e.g. 'down_blocks.0.attentions.0.transformer_blocks.0.attn2': names the probabilities and finds overrides. */
  readonly path: string;
  readonly queryDim: number;
  /** Width of the conditioning for cross-attention; undefined for self-attention. */
  readonly crossDim?: number;
  readonly heads: number;
  readonly dimHead: number;
  /** Bias on to_q/to_k/to_v (the VAE's attention has one, the UNet's does not). */
  readonly qkvBias?: boolean;
  /** Key count at the model's training resolution (self-attention), for entropy-aware scaling. */
  readonly trainKeys?: number;
  readonly overrides?: AttentionOverrides;
}

/** [B, N, H·d] → [B, H, N, d] and back. */
export const splitHeads = (x: Tensor, heads: number): Tensor =>
  permute(reshape(x, [x.shape[0], x.shape[1], heads, -1]), [0, 2, 1, 3]);
export const mergeHeads = (x: Tensor): Tensor => {
  const [b, h, n, d] = x.shape;
  return reshape(permute(x, [0, 2, 1, 3]), [b, n, (h as number) * (d as number)]);
};

export const attentionModule = (s: AttentionSpec) => {
  const inner = s.heads * s.dimHead, kv = s.crossDim ?? s.queryDim, bias = s.qkvBias ?? false;
  const sub = s.crossDim === undefined ? {} : resolveSubstitution(s.overrides, s.path);
  return module({
    to_q: nn.linear(s.queryDim, inner, bias), to_k: nn.linear(kv, inner, bias), to_v: nn.linear(kv, inner, bias),
    to_out: [nn.linear(inner, s.queryDim)],
  }, (p, x: Tensor, context?: Tensor) => {
    x = tag(x, `${s.path}.in`);
    const ctx = context ?? x;
    const q = splitHeads(p.to_q(x), s.heads);
    const k = splitHeads(p.to_k(substituted(ctx, sub.k, s.path)), s.heads);
    const v = splitHeads(p.to_v(substituted(ctx, sub.v, s.path)), s.heads);
    const scale = resolveScale(s.overrides, s.path, s.dimHead, k.shape[2] as number, s.crossDim === undefined ? s.trainKeys : undefined);
    return tag(p.to_out[0](mergeHeads(attend(q, k, v, { scale, probsName: `${s.path}.probs` }))), `${s.path}.out`);
  });
};

/** ctx with the rows at `sub.positions` read from the substitute input instead. */
function substituted(ctx: Tensor, sub: Sub | undefined, path: string): Tensor {
  if (!sub) return ctx;
  const M = ctx.shape[1] as number;
  const bad = sub.positions.filter((i) => !Number.isInteger(i) || i < 0 || i >= M);
  if (bad.length) throw new ArgumentError(`attention '${path}': substitution positions ${bad.join(',')} are outside 0..${M - 1}`);
  const rows = constant(Array.from({ length: M }, (_, i) => (sub.positions.includes(i) ? 1 : 0)), [M, 1]);
  return where(rows, input(sub.input, ctx.shape, ctx.dtype), ctx);
}
