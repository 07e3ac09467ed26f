// Where one parameter lives in an original-layout checkpoint.
import { KilnError } from '../../dsl/index.js';

export interface LdmRef {
  /** The stored key. */
  readonly key: string;
  /** Other keys that hold the same tensor in older exports (first present wins). */
  readonly alternatives?: readonly string[];
  /** Rows [start, end) of the stored tensor (OpenCLIP's fused in_proj holds q, k, v stacked). */
  readonly rows?: readonly [number, number];
  /** The stored tensor is a 1×1 conv kernel [O, I, 1, 1] of our linear weight [O, I] (the LDM VAE's attention). */
  readonly conv1x1?: boolean;
}

/** A parameter path the layout mapping has no rule for: a bug in the mapping, not in the file. */
export class UnmappedParameterError extends KilnError {
  constructor(readonly component: string, readonly parameter: string) {
    super(`${component}: parameter '${parameter}' has no original-layout (LDM) key; expected a path of a diffusers ${component} module`);
  }
}

/** The stored shape a reference implies for an expected parameter shape (null: any row count, checked later). */
export function storedShape(ref: LdmRef, expected: readonly number[]): readonly number[] | null {
  if (ref.conv1x1) return [...expected, 1, 1];
  if (ref.rows) return null;
  return expected;
}
