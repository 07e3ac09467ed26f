import { ArgumentError, ShapeError } from '../errors.js';
import { type DType, Tensor } from '../node.js';
import { type Shape, fmtShape, isConcrete, numel } from '../shape.js';

/** A graph input fed at run time. A rank-0 float input is a per-run scalar (a uniform on the device). */
export function input<S extends Shape>(name: string, shape: S, dtype: DType = 'f32'): Tensor<S> {
  if (!name) throw new ArgumentError('input(): a name is required');
  checkDims(shape, `input '${name}'`);
  return Tensor.make({ kind: 'input', name }, shape, dtype);
}

/** A named parameter (weight). Its name is its state-dict key. */
export function param<S extends Shape>(name: string, shape: S, dtype: DType = 'f32'): Tensor<S> {
  checkDims(shape, `param '${name}'`);
  return Tensor.make({ kind: 'param', name }, shape, dtype);
}

/** A scalar constant, broadcast wherever it is used. */
export const scalar = (value: number): Tensor<[]> => Tensor.make({ kind: 'scalar', value }, [] as [], 'f32');

/** A constant tensor baked into the graph (e.g. sinusoidal frequencies). */
export function constant<S extends Shape>(data: ArrayLike<number>, shape: S): Tensor<S> {
  if (!isConcrete(shape)) throw new ShapeError(`constant(): shape ${fmtShape(shape)} must be concrete`);
  if (numel(shape) !== data.length) {
    throw new ShapeError(`constant(): shape ${fmtShape(shape)} needs ${numel(shape)} values, found ${data.length}`);
  }
  const d = Float64Array.from(data);
  return Tensor.make({ kind: 'constant', data: d, hash: hashValues(d) }, shape, 'f32');
}

export type TensorLike = Tensor | number;
export const lift = (x: TensorLike): Tensor => (typeof x === 'number' ? scalar(x) : x);

function checkDims(shape: Shape, what: string): void {
  for (const d of shape) {
    if (typeof d === 'number' && (!Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`${what}: dimensions must be non-negative integers, found ${fmtShape(shape)}`);
    }
    if (typeof d === 'string' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) {
      throw new ShapeError(`${what}: symbolic dimension '${d}' must be an identifier`);
    }
  }
}

function hashValues(d: Float64Array): string {
  // FNV-1a over the bytes: equal constants merge, different ones never collide in practice.
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i], 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ bytes[i], 0x5bd1e995) >>> 0;
  }
  return `${d.length}:${h1.toString(16)}${h2.toString(16)}`;
}
