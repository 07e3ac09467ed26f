// UNetMidBlock2D as the VAE uses it: resnet → spatial self-attention (+ residual) → resnet; no time embedding.
import { type Tensor, add, module, nn, permute, reshape } from '../../dsl/index.js';
import { attentionModule } from '../unet/attention.js';
import { resnetBlock2D } from '../unet/resnet.js';

/** diffusers' Attention with a GroupNorm (group_norm), biased to_q/to_k/to_v, one head of width C (attention_head_dim = C). */
export const vaeAttention = (path: string, channels: number, groups: number, eps: number) => {
  const attn = attentionModule({ path, queryDim: channels, heads: 1, dimHead: channels, qkvBias: true });
  return module({ group_norm: nn.groupNorm(groups, channels, eps), ...attn.children }, (p, x: Tensor) => {
    const [b, c, h, w] = x.shape as number[];
    const tokens = permute(reshape(p.group_norm(x), [b, c, h * w]), [0, 2, 1]);        // [B, H·W, C]
    const y = attn.forward(p, tokens);
    return add(reshape(permute(y, [0, 2, 1]), [b, c, h, w]), x);
  });
};

export const vaeMidBlock = (path: string, channels: number, groups: number, eps: number, addAttention: boolean) =>
  module({
    attentions: addAttention ? [vaeAttention(`${path}.attentions.0`, channels, groups, eps)] : undefined,
    resnets: [0, 1].map(() => resnetBlock2D(channels, channels, { groups, eps })),
  }, (p, x: Tensor) => {
    const h = p.resnets[0](x);
    return p.resnets[1](p.attentions ? p.attentions[0](h) : h);
  });
