// ResnetBlock2D (diffusers, resnet_time_scale_shift 'default'): two GroupNorm→SiLU→conv steps, time added between.
import { type Tensor, add, div, module, nn, reshape, silu } from '../../dsl/index.js';

export interface ResnetOptions {
  readonly groups: number;
  readonly eps: number;
  /** Width of the time embedding; undefined for the VAE's resnets (no time_emb_proj). */
  readonly tembDim?: number;
  readonly outputScaleFactor?: number;
}

export const resnetBlock2D = (cin: number, cout: number, o: ResnetOptions) =>
  module({
    norm1: nn.groupNorm(o.groups, cin, o.eps), conv1: nn.conv2d(cin, cout, 3),
    time_emb_proj: o.tembDim === undefined ? undefined : nn.linear(o.tembDim, cout),
    norm2: nn.groupNorm(o.groups, cout, o.eps), conv2: nn.conv2d(cout, cout, 3),
    conv_shortcut: cin === cout ? undefined : nn.conv2d(cin, cout, 1),
  }, (p, x: Tensor, temb?: Tensor) => {
    let h = p.conv1(silu(p.norm1(x)));
    if (p.time_emb_proj && temb) h = add(h, asChannels(p.time_emb_proj(silu(temb))));   // + time, broadcast over H×W
    h = p.conv2(silu(p.norm2(h)));
    const y = add(p.conv_shortcut ? p.conv_shortcut(x) : x, h);
    return o.outputScaleFactor && o.outputScaleFactor !== 1 ? div(y, o.outputScaleFactor) : y;
  });

/** [B, C] → [B, C, 1, 1]. */
export const asChannels = (v: Tensor): Tensor => reshape(v, [v.shape[0], v.shape[1], 1, 1]);
