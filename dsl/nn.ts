// Leaf modules with PyTorch's parameter names (weight, bias), so paths equal state-dict keys.
import { module, paramSpec } from './module.js';
import type { Tensor } from './node.js';
import { type Conv2dOptions, conv2d as conv2dOp } from './ops/conv.js';
import { gather } from './ops/gather.js';
import { linear as linearOp } from './ops/linalg.js';
import { groupNorm as groupNormOp, layerNorm as layerNormOp } from './ops/norm.js';

export const linear = (inF: number, outF: number, bias = true) =>
  module(
    { weight: paramSpec([outF, inF]), bias: bias ? paramSpec([outF]) : undefined },
    (p, x: Tensor) => linearOp(x, p.weight, p.bias),
  );

export const conv2d = (cin: number, cout: number, k: number, o: Conv2dOptions & { bias?: boolean } = {}) =>
  module(
    {
      weight: paramSpec([cout, cin / (o.groups ?? 1), k, k]),
      bias: o.bias === false ? undefined : paramSpec([cout]),
    },
    (p, x: Tensor) => conv2dOp(x, p.weight, p.bias, { padding: Math.floor(k / 2), ...o }),
  );

export const groupNorm = (groups: number, channels: number, eps = 1e-5) =>
  module({ weight: paramSpec([channels]), bias: paramSpec([channels]) }, (p, x: Tensor) =>
    groupNormOp(x, groups, p.weight, p.bias, eps),
  );

export const layerNorm = (channels: number, eps = 1e-5) =>
  module({ weight: paramSpec([channels]), bias: paramSpec([channels]) }, (p, x: Tensor) =>
    layerNormOp(x, p.weight, p.bias, eps),
  );

export const embedding = (count: number, dim: number) =>
  module({ weight: paramSpec([count, dim]) }, (p, ids: Tensor) => gather(p.weight, ids));
