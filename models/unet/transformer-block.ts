// BasicTransformerBlock: x += attn1(norm1 x);  x += attn2(norm2 x, context);  x += ff(norm3 x).
import { type Tensor, add, module, nn } from '../../dsl/index.js';
import { attentionModule } from './attention.js';
import { feedForward } from './feed-forward.js';
import type { AttentionOverrides } from './variant.js';

export interface TransformerBlockSpec {
  readonly path: string;
  readonly dim: number;
  readonly heads: number;
  readonly dimHead: number;
  readonly crossDim: number;
  readonly onlyCrossAttention?: boolean;
  readonly trainKeys?: number;
  readonly overrides?: AttentionOverrides;
}

export const basicTransformerBlock = (s: TransformerBlockSpec) => {
  const common = { queryDim: s.dim, heads: s.heads, dimHead: s.dimHead, overrides: s.overrides };
  return module({
    norm1: nn.layerNorm(s.dim),
    attn1: attentionModule({ ...common, path: `${s.path}.attn1`, crossDim: s.onlyCrossAttention ? s.crossDim : undefined, trainKeys: s.trainKeys }),
    norm2: nn.layerNorm(s.dim),
    attn2: attentionModule({ ...common, path: `${s.path}.attn2`, crossDim: s.crossDim }),
    norm3: nn.layerNorm(s.dim),
    ff: feedForward(s.dim),
  }, (p, x: Tensor, context: Tensor) => {
    let h = add(p.attn1(p.norm1(x), s.onlyCrossAttention ? context : undefined), x);
    h = add(p.attn2(p.norm2(h), context), h);
    return add(p.ff(p.norm3(h)), h);
  });
};
