import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { type Dim, type Shape, fmtShape, normAxis } from '../shape.js';

/** Reshape; one dim may be -1 (inferred). Symbolic dims must appear on both sides. */
export function reshape<S extends Shape>(x: Tensor, shape: S): Tensor<S> {
  const what = () => `reshape(x: ${fmtShape(x.shape)} → ${fmtShape(shape)})`;
  const [numIn, symIn] = factor(x.shape);
  const infer = shape.filter((d) => d === -1).length;
  if (infer > 1) throw new ShapeError(`${what()}: at most one dimension may be -1`);
  const [numOut, symOut] = factor(shape.filter((d) => d !== -1));
  if (symIn.join('*') !== symOut.join('*')) {
    throw new ShapeError(`${what()}: symbolic dimensions ${symIn.join('*') || 'none'} ≠ ${symOut.join('*') || 'none'}`);
  }
  let out: Dim[] = [...shape];
  if (infer) {
    if (numOut === 0 || numIn % numOut !== 0) throw new ShapeError(`${what()}: cannot infer -1, ${numIn} elements do not divide by ${numOut}`);
    out = shape.map((d) => (d === -1 ? numIn / numOut : d));
  } else if (numIn !== numOut) {
    throw new ShapeError(`${what()}: element counts differ (${numIn} ≠ ${numOut})`);
  }
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x as Tensor<S>;
  return Tensor.make({ kind: 'reshape', x }, out, x.dtype) as unknown as Tensor<S>;
}

function factor(s: Shape): [number, string[]] {
  let n = 1;
  const syms: string[] = [];
  for (const d of s) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  return [n, syms.sort()];
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const what = () => `permute(x: ${fmtShape(x.shape)}, perm: [${perm.join(',')}])`;
  if (perm.length !== x.rank) throw new ShapeError(`${what()}: perm has ${perm.length} axes, x has rank ${x.rank}`);
  const p = perm.map((a) => normAxis(a, x.rank, what));
  if (new Set(p).size !== p.length) throw new ShapeError(`${what()}: axes repeat`);
  if (p.every((a, i) => a === i)) return x;
  if (x.op.kind === 'permute') {
    const inner = x.op.perm;
    return permute(x.op.x, p.map((a) => inner[a]));
  }
  return Tensor.make({ kind: 'permute', x, perm: p }, p.map((a) => x.shape[a]), x.dtype);
}

/** Swap two axes (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const what = () => `transpose(x: ${fmtShape(x.shape)}, ${a}, ${b})`;
  const i = normAxis(a, x.rank, what), j = normAxis(b, x.rank, what);
  const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
  return permute(x, perm);
}

/** Slice along axes: [start, end) with step; negative indices count from the end, like NumPy. */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const what = () => `slice(x: ${fmtShape(x.shape)}, axis ${axis}, ${start}:${end ?? ''}:${step})`;
  const ax = normAxis(axis, x.rank, what);
  const n = x.shape[ax];
  if (typeof n !== 'number') throw new ShapeError(`${what()}: cannot slice a symbolic dimension`);
  if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`${what()}: step must be a positive integer`);
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clamp(start), e = clamp(end ?? n);
  const len = Math.max(0, Math.ceil((e - s) / step));
  if (len === 0) throw new ShapeError(`${what()}: the slice is empty`);
  if (s === 0 && len === n && step === 1) return x;
  const starts = x.shape.map((_, i) => (i === ax ? s : 0));
  const steps = x.shape.map((_, i) => (i === ax ? step : 1));
  const shape = x.shape.map((d, i) => (i === ax ? len : d));
  return Tensor.make({ kind: 'slice', x, starts, steps }, shape, x.dtype);
}

/** Split into equal chunks along an axis (like torch.chunk with an exact divisor). */
export function chunk(x: Tensor, chunks: number, axis: number): Tensor[] {
  const what = () => `chunk(x: ${fmtShape(x.shape)}, ${chunks}, axis ${axis})`;
  const ax = normAxis(axis, x.rank, what);
  const n = x.shape[ax];
  if (typeof n !== 'number' || n % chunks !== 0) throw new ShapeError(`${what()}: ${n} does not divide into ${chunks}`);
  const c = n / chunks;
  return Array.from({ length: chunks }, (_, i) => slice(x, ax, i * c, (i + 1) * c));
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ArgumentError('concat(): needs at least one tensor');
  if (xs.length === 1) return xs[0];
  const r = xs[0].rank;
  const what = () => `concat(${xs.map((x) => fmtShape(x.shape)).join(', ')}, axis ${axis})`;
  const ax = normAxis(axis, r, what);
  let total = 0;
  for (const x of xs) {
    if (x.rank !== r) throw new ShapeError(`${what()}: ranks differ`);
    x.shape.forEach((d, i) => {
      if (i !== ax && d !== xs[0].shape[i]) throw new ShapeError(`${what()}: dimension ${i} differs (${xs[0].shape[i]} vs ${d})`);
    });
    const d = x.shape[ax];
    if (typeof d !== 'number') throw new ShapeError(`${what()}: cannot concatenate along a symbolic dimension`);
    total += d;
  }
  const shape = xs[0].shape.map((d, i) => (i === ax ? total : d));
  return Tensor.make({ kind: 'concat', xs: [...xs], axis: ax }, shape, xs[0].dtype);
}

/** Constant padding: pads[i] = [before, after] for each axis (missing leading axes are unpadded). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const what = () => `pad(x: ${fmtShape(x.shape)}, [${pads.map((p) => p.join(':')).join(',')}])`;
  if (pads.length > x.rank) throw new ShapeError(`${what()}: ${pads.length} pad pairs for rank ${x.rank}`);
  const full = [...Array(x.rank - pads.length).fill([0, 0]), ...pads] as [number, number][];
  if (full.some(([a, b]) => a < 0 || b < 0 || !Number.isInteger(a) || !Number.isInteger(b))) {
    throw new ArgumentError(`${what()}: pads must be non-negative integers`);
  }
  if (full.every(([a, b]) => a === 0 && b === 0)) return x;
  const shape = x.shape.map((d, i) => {
    if (full[i][0] + full[i][1] === 0) return d;
    if (typeof d !== 'number') throw new ShapeError(`${what()}: cannot pad a symbolic dimension`);
    return d + full[i][0] + full[i][1];
  });
  return Tensor.make({ kind: 'pad', x, before: full.map((p) => p[0]), value }, shape, x.dtype);
}

/** Broadcast to a larger shape (NumPy rules: size-1 dims stretch, new leading dims appear). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const what = () => `expand(x: ${fmtShape(x.shape)} → ${fmtShape(shape)})`;
  if (shape.length < x.rank) throw new ShapeError(`${what()}: target rank is smaller`);
  const off = shape.length - x.rank;
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== shape[off + i]) throw new ShapeError(`${what()}: dimension ${off + i} is ${d}, cannot become ${shape[off + i]}`);
  });
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
  return Tensor.make({ kind: 'expand', x }, shape, x.dtype);
}

/** Nearest-neighbour 2× upsampling of the last two axes (H, W). */
export function upsampleNearest2x(x: Tensor): Tensor {
  if (x.rank < 2) throw new ShapeError(`upsampleNearest2x(x: ${fmtShape(x.shape)}): needs rank ≥ 2`);
  const shape = x.shape.map((d, i) => {
    if (i < x.rank - 2) return d;
    if (typeof d !== 'number') throw new ShapeError(`upsampleNearest2x(x: ${fmtShape(x.shape)}): spatial dims must be concrete`);
    return 2 * d;
  });
  return Tensor.make({ kind: 'upsample2x', x }, shape, x.dtype);
}

export const flatten = (x: Tensor, from = 0): Tensor =>
  reshape(x, [...x.shape.slice(0, from), -1]);
