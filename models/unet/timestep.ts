// Timesteps (sinusoidal projection) and TimestepEmbedding (linear_1 → SiLU → linear_2).
import { type Tensor, concat, constant, cos, module, mul, nn, pad, reshape, sin, silu } from '../../dsl/index.js';

export interface TimestepOptions { readonly flipSinToCos: boolean; readonly freqShift: number; readonly maxPeriod?: number }

/**
 * diffusers' get_timestep_embedding: freqs_i = exp(−ln(max_period)·i / (half − freq_shift)), emb = [sin(t·f), cos(t·f)]
 * ([cos, sin] with flip_sin_to_cos). The frequencies are rounded as float32 torch computes them.
 */
export function timestepProjection(timesteps: Tensor, dim: number, o: TimestepOptions): Tensor {
  const half = Math.floor(dim / 2), f = Math.fround;
  const freqs = Array.from({ length: half }, (_, i) =>
    f(Math.exp(f(f(f(-Math.log(o.maxPeriod ?? 10000)) * i) / (half - o.freqShift)))));
  const args = mul(reshape(timesteps, [timesteps.shape[0], 1]), constant(freqs, [1, half]));
  const emb = o.flipSinToCos ? concat([cos(args), sin(args)], 1) : concat([sin(args), cos(args)], 1);
  if (dim % 2 === 0) return emb;
  return pad(emb, [[0, 0], [0, 1]]);   // odd widths get one zero column, like diffusers
}

export const timestepEmbedding = (inDim: number, timeEmbedDim: number) =>
  module({ linear_1: nn.linear(inDim, timeEmbedDim), linear_2: nn.linear(timeEmbedDim, timeEmbedDim) },
    (p, t: Tensor) => p.linear_2(silu(p.linear_1(t))));
