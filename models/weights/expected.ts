// The parameters a module declares, as the list a weight loader checks files against.
import { type Spec, ShapeError, isConcrete, parameters } from '../../dsl/index.js';
import type { ExpectedParameter } from '../../runtime/safetensors/index.js';

export function expectedParameters(def: Spec): ExpectedParameter[] {
  return parameters(def).map((p) => {
    if (!isConcrete(p.shape)) throw new ShapeError(`parameter '${p.name}' has symbolic shape [${p.shape.join(',')}]; weights need concrete shapes`);
    return { name: p.name, shape: p.shape };
  });
}
