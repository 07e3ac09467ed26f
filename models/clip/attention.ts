// CLIPAttention: multi-head self-attention with q/k/v/out projections (all biased), scale 1/√d.
import { type Tensor, attention, module, nn, permute, reshape } from '../../dsl/index.js';
import type { ClipTextConfig } from './config.js';

export const clipAttention = (c: ClipTextConfig) => {
  const D = c.hidden_size, H = c.num_attention_heads, d = D / H;
  const heads = (x: Tensor) => permute(reshape(x, [x.shape[0], x.shape[1], H, d]), [0, 2, 1, 3]); // [B,L,D] → [B,H,L,d]
  const merge = (x: Tensor) => reshape(permute(x, [0, 2, 1, 3]), [x.shape[0], x.shape[2], D]);   // [B,H,L,d] → [B,L,D]
  return module(
    { q_proj: nn.linear(D, D), k_proj: nn.linear(D, D), v_proj: nn.linear(D, D), out_proj: nn.linear(D, D) },
    (p, x: Tensor, mask: Tensor) =>
      p.out_proj(merge(attention(heads(p.q_proj(x)), heads(p.k_proj(x)), heads(p.v_proj(x)), { scale: d ** -0.5, mask }))),
  );
};
