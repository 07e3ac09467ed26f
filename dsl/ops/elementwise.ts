import { ShapeError } from '../errors.js';
import { type BinaryFn, type CompareFn, type DType, Tensor, type UnaryFn } from '../node.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { type TensorLike, lift } from './sources.js';

const floatOf = (t: Tensor): DType => (t.dtype === 'i32' ? 'f32' : t.dtype);

const unary = (fn: UnaryFn) => (x: Tensor): Tensor => Tensor.make({ kind: 'unary', fn, x }, x.shape, floatOf(x));

export const neg = unary('neg');
export const exp = unary('exp');
export const log = unary('log');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const silu = unary('silu');
/** GELU, exact erf form (PyTorch's default). */
export const gelu = unary('gelu');
/** GELU, tanh approximation. */
export const geluTanh = unary('gelu_tanh');
/** x·sigmoid(1.702x), OpenAI CLIP's activation. */
export const quickGelu = unary('quick_gelu');
export const abs = unary('abs');
export const sin = unary('sin');
export const cos = unary('cos');
export const relu = unary('relu');
export const recip = unary('recip');
export const square = unary('square');
export const floor = unary('floor');

function promote(fn: string, a: Tensor, b: Tensor): DType {
  if (a.dtype === b.dtype) return a.dtype === 'i32' ? 'f32' : a.dtype;
  return a.dtype === 'f32' || b.dtype === 'f32' ? 'f32' : 'f16';
}

const binary = (fn: BinaryFn) => (x: TensorLike, y: TensorLike): Tensor => {
  const a = lift(x), b = lift(y);
  const shape = broadcastShapes([a.shape, b.shape], () => `${fn}(a: ${fmtShape(a.shape)}, b: ${fmtShape(b.shape)})`);
  return Tensor.make({ kind: 'binary', fn, a, b }, shape, promote(fn, a, b));
};

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const pow = binary('pow');
export const maximum = binary('max');
export const minimum = binary('min');

const compare = (fn: CompareFn) => (x: TensorLike, y: TensorLike): Tensor => {
  const a = lift(x), b = lift(y);
  const shape = broadcastShapes([a.shape, b.shape], () => `${fn}(a: ${fmtShape(a.shape)}, b: ${fmtShape(b.shape)})`);
  return Tensor.make({ kind: 'compare', fn, a, b }, shape, 'f32');
};

/** Comparisons give 1 where true and 0 where false. */
export const lt = compare('lt');
export const le = compare('le');
export const gt = compare('gt');
export const ge = compare('ge');
export const eq = compare('eq');
export const ne = compare('ne');

/** cond ≠ 0 ? a : b, with broadcasting of all three. */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  const c = lift(cond), a = lift(x), b = lift(y);
  const shape = broadcastShapes([c.shape, a.shape, b.shape],
    () => `where(cond: ${fmtShape(c.shape)}, a: ${fmtShape(a.shape)}, b: ${fmtShape(b.shape)})`);
  return Tensor.make({ kind: 'where', cond: c, a, b }, shape, promote('where', a, b));
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return Tensor.make({ kind: 'cast', x }, x.shape, to);
}

/** Name an intermediate so a compile can capture it; costs nothing when not captured. */
export function tag<T extends Tensor>(x: T, name: string): T {
  if (!name) throw new ShapeError('tag(): a name is required');
  return Tensor.make({ kind: 'tag', x, name }, x.shape, x.dtype) as T;
}
