import { ShapeError } from './errors.js';

/** A number, or a named symbolic dimension bound at compile time. */
export type Dim = number | string;
export type Shape = readonly Dim[];
export type ConcreteShape = readonly number[];

export const fmtShape = (s: Shape): string => `[${s.join(',')}]`;

export const isConcrete = (s: Shape): s is ConcreteShape => s.every((d) => typeof d === 'number');

export function numel(s: Shape): number {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') throw new ShapeError(`numel(${fmtShape(s)}): symbolic dim '${d}' is not bound`);
    n *= d;
  }
  return n;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Row-major strides (in elements) of a concrete shape. */
export function stridesOf(s: ConcreteShape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/** NumPy broadcasting; `what` names the op and operands for the error message. */
export function broadcastShapes(shapes: readonly Shape[], what: () => string): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const e = s[k];
      if (e === 1 || e === d) continue;
      if (d === 1) d = e;
      else throw new ShapeError(`${what()}: dimension ${i} is ${d} in one operand and ${e} in another, and neither is 1`);
    }
    out.push(d);
  }
  return out;
}

/** Normalise a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number, what: () => string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${what()}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}
