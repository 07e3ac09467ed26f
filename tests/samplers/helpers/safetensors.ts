// A minimal safetensors reader for golden data: 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then raw
// little-endian tensor bytes. Enough for F32/F64/I64 test tensors.

import { readFileSync } from 'node:fs';

export interface GoldenTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Values widened to float64 (int64 via Number; golden int64 values are small). */
  readonly values: Float64Array;
}

export function readSafetensors(path: string): Map<string, GoldenTensor> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new Error(`${path}: header length ${headerLength} runs past the file end (${bytes.length} bytes)`);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const tensors = new Map<string, GoldenTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const width = { F32: 4, F64: 8, I64: 8 }[entry.dtype];
    if (width === undefined) throw new Error(`${path}: tensor ${name} has dtype ${entry.dtype}; expected F32, F64 or I64`);
    if (end - start !== count * width) throw new Error(`${path}: tensor ${name} spans ${end - start} bytes; expected ${count * width}`);
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = base + start + i * width;
      values[i] = entry.dtype === 'F32' ? view.getFloat32(at, true) : entry.dtype === 'F64' ? view.getFloat64(at, true) : Number(view.getBigInt64(at, true));
    }
    tensors.set(name, { dtype: entry.dtype, shape: entry.shape, values });
  }
  return tensors;
}

/** ‖a − b‖₂ / ‖b‖₂ in float64. */
export function relativeL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i]! - expected[i]!) ** 2;
    den += expected[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
