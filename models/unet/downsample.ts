// Downsample2D: 3×3 conv with stride 2. padding 0 (the VAE encoder) pads right/bottom by one first, as diffusers does.
import { type Tensor, module, nn, pad } from '../../dsl/index.js';

export const downsample2D = (channels: number, outChannels = channels, padding = 1) =>
  module({ conv: nn.conv2d(channels, outChannels, 3, { stride: 2, padding }) },
    (p, x: Tensor) => p.conv(padding === 0 ? pad(x, [[0, 1], [0, 1]]) : x));
