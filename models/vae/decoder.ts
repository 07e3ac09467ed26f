// Decoder: conv_in → mid → UpDecoderBlock2D × n (layers+1 resnets, upsample) → norm/SiLU → conv_out.
import { type Tensor, module, nn, silu, tag } from '../../dsl/index.js';
import { resnetBlock2D } from '../unet/resnet.js';
import { upsample2D } from '../unet/upsample.js';
import type { VaeConfig } from './config.js';
import { vaeMidBlock } from './mid-block.js';

const EPS = 1e-6;

export const vaeDecoder = (c: VaeConfig) => {
  const rev = [...c.block_out_channels].reverse(), g = c.norm_num_groups, last = rev.length - 1;
  return module({
    conv_in: nn.conv2d(c.latent_channels, rev[0], 3),
    mid_block: vaeMidBlock('decoder.mid_block', rev[0], g, EPS, c.mid_block_add_attention),
    up_blocks: rev.map((cout, i) => module({
      resnets: Array.from({ length: c.layers_per_block + 1 }, (_, j) => resnetBlock2D(j === 0 ? rev[Math.max(i - 1, 0)] : cout, cout, { groups: g, eps: EPS })),
      upsamplers: i < last ? [upsample2D(cout)] : undefined,
    }, (p, x: Tensor) => {
      const h = p.resnets.reduce((acc, r) => r(acc), x);
      return tag(p.upsamplers ? p.upsamplers[0](h) : h, `decoder.up_blocks.${i}`);
    })),
    conv_norm_out: nn.groupNorm(g, rev[last], EPS),
    conv_out: nn.conv2d(rev[last], c.out_channels, 3),
  }, (p, z: Tensor) => {
    let h = tag(p.conv_in(z), 'decoder.conv_in');
    h = tag(p.mid_block(h), 'decoder.mid_block');
    for (const block of p.up_blocks) h = block(h);
    return p.conv_out(silu(tag(p.conv_norm_out(h), 'decoder.conv_norm_out')));
  });
};
