/**
 * Element types named by the safetensors format. All of them are accepted in a header, so a file
 * is validated whole even when it holds a type we cannot convert (e.g. F8_E4M3 scales in a newer
 * checkpoint); reading such a tensor as numbers is what fails, by name.
 */
export const SAFETENSORS_DTYPE_BITS = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
} as const;

export type Dtype = keyof typeof SAFETENSORS_DTYPE_BITS;

export function isDtype(name: string): name is Dtype {
  return Object.hasOwn(SAFETENSORS_DTYPE_BITS, name);
}

/** The typed array each readable dtype comes back as from `readTyped`, bytes unchanged. */
export interface TypedArrayOf {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
  I32: Int32Array;
  U32: Uint32Array;
  I16: Int16Array;
  U16: Uint16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

export type ReadableDtype = keyof TypedArrayOf;
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';

const READABLE: ReadonlySet<string> = new Set<ReadableDtype>([
  'F64', 'F32', 'F16', 'BF16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL',
]);

export function isReadableDtype(dtype: Dtype): dtype is ReadableDtype {
  return READABLE.has(dtype);
}

export function isFloatDtype(dtype: Dtype): dtype is FloatDtype {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** Bytes that `elementCount` elements occupy, or undefined when sub-byte types leave a partial byte. */
export function byteLengthOf(dtype: Dtype, elementCount: number): number | undefined {
  const bits = SAFETENSORS_DTYPE_BITS[dtype] * elementCount;
  return bits % 8 === 0 ? bits / 8 : undefined;
}

export function elementCountOf(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/**
 * A view of `bytes` as the dtype's typed array (no copy). `bytes` must start on an element boundary;
 * safetensors data is little-endian, which is every host Node runs on that we support.
 */
export function viewAs<D extends ReadableDtype>(dtype: D, bytes: Uint8Array): TypedArrayOf[D] {
  const { buffer, byteOffset, byteLength } = bytes;
  const views: { [K in ReadableDtype]: () => TypedArrayOf[K] } = {
    F64: () => new Float64Array(buffer, byteOffset, byteLength / 8),
    F32: () => new Float32Array(buffer, byteOffset, byteLength / 4),
    F16: () => new Uint16Array(buffer, byteOffset, byteLength / 2),
    BF16: () => new Uint16Array(buffer, byteOffset, byteLength / 2),
    I64: () => new BigInt64Array(buffer, byteOffset, byteLength / 8),
    U64: () => new BigUint64Array(buffer, byteOffset, byteLength / 8),
    I32: () => new Int32Array(buffer, byteOffset, byteLength / 4),
    U32: () => new Uint32Array(buffer, byteOffset, byteLength / 4),
    I16: () => new Int16Array(buffer, byteOffset, byteLength / 2),
    U16: () => new Uint16Array(buffer, byteOffset, byteLength / 2),
    I8: () => new Int8Array(buffer, byteOffset, byteLength),
    U8: () => bytes,
    BOOL: () => bytes,
  };
  return views[dtype]();
}
