// Upsample2D: nearest-neighbour 2× then a 3×3 conv.
import { type Tensor, module, nn, upsampleNearest2x } from '../../dsl/index.js';

export const upsample2D = (channels: number, outChannels = channels) =>
  module({ conv: nn.conv2d(channels, outChannels, 3) }, (p, x: Tensor) => p.conv(upsampleNearest2x(x)));
