import { type Tensor, maximum, minimum } from '../../dsl/index.js';

export { type Tensor, add, exp, input, instantiate, mul, permute } from '../../dsl/index.js';

/** clamp(x, 0, 1) */
export const clamp01 = (x: Tensor): Tensor => minimum(maximum(x, 0), 1);
