// Transformer2DModel (continuous input): GroupNorm → proj_in → transformer blocks over H·W tokens → proj_out → + x.
// proj_in/proj_out are 1×1 convs (SD 1.x) or linears on tokens (use_linear_projection, SD 2.x).
import { type Tensor, add, module, nn, permute, reshape } from '../../dsl/index.js';
import { basicTransformerBlock } from './transformer-block.js';
import type { AttentionOverrides } from './variant.js';

export interface Transformer2DSpec {
  readonly path: string;
  readonly channels: number;
  readonly heads: number;
  readonly layers: number;
  readonly crossDim: number;
  readonly groups: number;
  readonly useLinearProjection: boolean;
  readonly onlyCrossAttention?: boolean;
  /** Token count (H·W) at the model's training resolution. */
  readonly trainTokens?: number;
  readonly overrides?: AttentionOverrides;
}

/** [B, C, H, W] ↔ [B, H·W, C] */
const toTokens = (x: Tensor) => reshape(permute(x, [0, 2, 3, 1]), [x.shape[0], -1, x.shape[1]]);
const toImage = (x: Tensor, h: number, w: number) => permute(reshape(x, [x.shape[0], h, w, x.shape[2]]), [0, 3, 1, 2]);

export const transformer2D = (s: Transformer2DSpec) => {
  const C = s.channels, inner = C, dimHead = C / s.heads;   // diffusers: heads × (C / heads) = C
  const proj = (a: number, b: number) => (s.useLinearProjection ? nn.linear(a, b) : nn.conv2d(a, b, 1));
  return module({
    norm: nn.groupNorm(s.groups, C, 1e-6),
    proj_in: proj(C, inner),
    transformer_blocks: Array.from({ length: s.layers }, (_, i) => basicTransformerBlock({
      path: `${s.path}.transformer_blocks.${i}`, dim: inner, heads: s.heads, dimHead, crossDim: s.crossDim,
      onlyCrossAttention: s.onlyCrossAttention, trainKeys: s.trainTokens, overrides: s.overrides,
    })),
    proj_out: proj(inner, C),
  }, (p, x: Tensor, context: Tensor) => {
    const [, , H, W] = x.shape as number[];
    const n = p.norm(x);
    let h = s.useLinearProjection ? p.proj_in(toTokens(n)) : toTokens(p.proj_in(n));
    for (const block of p.transformer_blocks) h = block(h, context);
    const out = s.useLinearProjection ? toImage(p.proj_out(h), H, W) : p.proj_out(toImage(h, H, W));
    return add(out, x);
  });
};
