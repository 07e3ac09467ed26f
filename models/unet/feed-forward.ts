// FeedForward with GEGLU: net.0.proj → (hidden, gate) → hidden·gelu(gate) → net.2.
import { type Tensor, chunk, gelu, module, mul, nn } from '../../dsl/index.js';

export const geglu = (dim: number, inner: number) =>
  module({ proj: nn.linear(dim, inner * 2) }, (p, x: Tensor) => {
    const [hidden, gate] = chunk(p.proj(x), 2, -1);
    return mul(hidden, gelu(gate));
  });

export const feedForward = (dim: number, mult = 4) =>
  module({ net: [geglu(dim, dim * mult), undefined, nn.linear(dim * mult, dim)] },   // net.1 is dropout
    (p, x: Tensor) => p.net[2]!(p.net[0]!(x)));
