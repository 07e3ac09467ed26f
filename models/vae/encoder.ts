// Encoder: conv_in → DownEncoderBlock2D × n (resnets, downsample with (0,1,0,1) padding) → mid → norm/SiLU → conv_out (2·latent).
import { type Tensor, module, nn, silu, tag } from '../../dsl/index.js';
import { downsample2D } from '../unet/downsample.js';
import { resnetBlock2D } from '../unet/resnet.js';
import type { VaeConfig } from './config.js';
import { vaeMidBlock } from './mid-block.js';

const EPS = 1e-6;

export const vaeEncoder = (c: VaeConfig) => {
  const boc = c.block_out_channels, g = c.norm_num_groups, last = boc.length - 1;
  return module({
    conv_in: nn.conv2d(c.in_channels, boc[0], 3),
    down_blocks: boc.map((cout, i) => module({
      resnets: Array.from({ length: c.layers_per_block }, (_, j) => resnetBlock2D(j === 0 ? boc[Math.max(i - 1, 0)] : cout, cout, { groups: g, eps: EPS })),
      downsamplers: i < last ? [downsample2D(cout, cout, 0)] : undefined,
    }, (p, x: Tensor) => {
      const h = p.resnets.reduce((acc, r) => r(acc), x);
      return tag(p.downsamplers ? p.downsamplers[0](h) : h, `encoder.down_blocks.${i}`);
    })),
    mid_block: vaeMidBlock('encoder.mid_block', boc[last], g, EPS, c.mid_block_add_attention),
    conv_norm_out: nn.groupNorm(g, boc[last], EPS),
    conv_out: nn.conv2d(boc[last], 2 * c.latent_channels, 3),
  }, (p, image: Tensor) => {
    let h = tag(p.conv_in(image), 'encoder.conv_in');
    for (const block of p.down_blocks) h = block(h);
    h = tag(p.mid_block(h), 'encoder.mid_block');
    return p.conv_out(silu(tag(p.conv_norm_out(h), 'encoder.conv_norm_out')));
  });
};
