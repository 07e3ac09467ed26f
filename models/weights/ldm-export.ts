// The inverse of the single-file mapping: our parameters → original-layout tensors (fused rows assembled, 1×1 kernels shaped).
import { ArgumentError, type Spec } from '../../dsl/index.js';
import type { WeightMap } from './diffusers.js';
import { expectedParameters } from './expected.js';
import type { LdmRef } from './ldm-ref.js';

export interface LdmTensor { readonly shape: readonly number[]; readonly data: Float32Array }

/** One component's weights under its original-layout keys (merge several components' maps into one file). */
export function toLdmTensors(def: Spec, keys: (name: string) => LdmRef, weights: WeightMap): Map<string, LdmTensor> {
  const out = new Map<string, LdmTensor>();
  const fused = new Map<string, { rows: number; rest: readonly number[]; parts: { at: number; data: Float32Array }[] }>();
  for (const { name, shape } of expectedParameters(def)) {
    const data = weights.get(name);
    if (!data) throw new ArgumentError(`toLdmTensors: no value for parameter '${name}'`);
    const ref = keys(name);
    if (ref.rows) {
      const f = fused.get(ref.key) ?? { rows: 0, rest: shape.slice(1), parts: [] };
      f.rows = Math.max(f.rows, ref.rows[1]);
      f.parts.push({ at: ref.rows[0], data });
      fused.set(ref.key, f);
    } else {
      out.set(ref.key, { shape: ref.conv1x1 ? [...shape, 1, 1] : shape, data });
    }
  }
  for (const [key, f] of fused) {
    const row = f.rest.reduce((a, b) => a * b, 1);
    const data = new Float32Array(f.rows * row);
    for (const p of f.parts) data.set(p.data, p.at * row);
    out.set(key, { shape: [f.rows, ...f.rest], data });
  }
  return out;
}
