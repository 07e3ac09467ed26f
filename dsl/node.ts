import type { Dim, Shape } from './shape.js';

export type DType = 'f32' | 'f16' | 'i32';

export type UnaryFn =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'sigmoid' | 'silu' | 'gelu' | 'gelu_tanh'
  | 'quick_gelu' | 'abs' | 'sin' | 'cos' | 'relu' | 'recip' | 'square' | 'floor';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min';
export type CompareFn = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
export type ReduceFn = 'sum' | 'mean' | 'max';

/**
 * The IR: one discriminated union, matched exhaustively wherever it is consumed, so adding an op is a
 * compile error everywhere it is not yet handled. Inputs of a node are other nodes (a DAG).
 */
export type Op =
  | { kind: 'input'; name: string }
  | { kind: 'param'; name: string }
  | { kind: 'scalar'; value: number }
  | { kind: 'constant'; data: Float64Array; hash: string }
  | { kind: 'unary'; fn: UnaryFn; x: Tensor }
  | { kind: 'binary'; fn: BinaryFn; a: Tensor; b: Tensor }
  | { kind: 'compare'; fn: CompareFn; a: Tensor; b: Tensor }
  | { kind: 'where'; cond: Tensor; a: Tensor; b: Tensor }
  | { kind: 'cast'; x: Tensor }
  | { kind: 'reduce'; fn: ReduceFn; x: Tensor; axes: readonly number[]; keepdims: boolean }
  | { kind: 'softmax'; x: Tensor }
  | { kind: 'layerNorm'; x: Tensor; weight?: Tensor; bias?: Tensor; eps: number }
  | { kind: 'groupNorm'; x: Tensor; weight?: Tensor; bias?: Tensor; groups: number; eps: number }
  | { kind: 'matmul'; a: Tensor; b: Tensor }
  | {
      kind: 'conv2d'; x: Tensor; w: Tensor; bias?: Tensor;
      stride: readonly [number, number]; padding: readonly [number, number];
      dilation: readonly [number, number]; groups: number;
    }
  | { kind: 'reshape'; x: Tensor }
  | { kind: 'permute'; x: Tensor; perm: readonly number[] }
  | { kind: 'slice'; x: Tensor; starts: readonly number[]; steps: readonly number[] }
  | { kind: 'concat'; xs: readonly Tensor[]; axis: number }
  | { kind: 'pad'; x: Tensor; before: readonly number[]; value: number }
  | { kind: 'expand'; x: Tensor }
  | { kind: 'upsample2x'; x: Tensor }
  | { kind: 'gather'; table: Tensor; ids: Tensor }
  | { kind: 'attention'; q: Tensor; k: Tensor; v: Tensor; mask?: Tensor; scale: number; probsName?: string }
  | { kind: 'tag'; x: Tensor; name: string };

export type OpKind = Op['kind'];

/** The tensors an op reads, in a fixed order. */
export function operands(op: Op): Tensor[] {
  const xs: (Tensor | undefined)[] = (() => {
    switch (op.kind) {
      case 'input': case 'param': case 'scalar': case 'constant': return [];
      case 'unary': case 'cast': case 'reshape': case 'permute': case 'slice': case 'pad':
      case 'expand': case 'upsample2x': case 'softmax': case 'reduce': case 'tag': return [op.x];
      case 'binary': case 'compare': return [op.a, op.b];
      case 'where': return [op.cond, op.a, op.b];
      case 'layerNorm': case 'groupNorm': return [op.x, op.weight, op.bias];
      case 'matmul': return [op.a, op.b];
      case 'conv2d': return [op.x, op.w, op.bias];
      case 'concat': return [...op.xs];
      case 'gather': return [op.table, op.ids];
      case 'attention': return [op.q, op.k, op.v, op.mask];
    }
  })();
  return xs.filter((x): x is Tensor => x !== undefined);
}

let nextId = 0;
const interned = new Map<string, WeakRef<Tensor>>();

/**
 * A node of the graph. Nodes are hash-consed: building the same op on the same operands twice returns
 * the same object, so common subexpressions merge by construction. Nodes are never mutated.
 */
export class Tensor<S extends Shape = Shape> {
  readonly id: number;
  private constructor(readonly op: Op, readonly shape: S, readonly dtype: DType, readonly key: string) {
    this.id = nextId++;
    Object.freeze(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Internal: the only way nodes are made. */
  static make<S extends Shape>(op: Op, shape: S, dtype: DType): Tensor<S> {
    const key = nodeKey(op, shape, dtype);
    const hit = interned.get(key)?.deref();
    if (hit) return hit as Tensor<S>;
    const t = new Tensor(op, Object.freeze([...shape]) as unknown as S, dtype, key);
    interned.set(key, new WeakRef(t));
    return t;
  }

  toString(): string {
    return `${this.op.kind}#${this.id}[${this.shape.join(',')}]`;
  }
}

function nodeKey(op: Op, shape: Shape, dtype: DType): string {
  const parts: string[] = [op.kind, dtype, shape.join(',')];
  for (const [k, v] of Object.entries(op)) {
    if (k === 'kind' || k === 'data') continue;
    parts.push(`${k}=${attrKey(v)}`);
  }
  return parts.join('|');
}

function attrKey(v: unknown): string {
  if (v instanceof Tensor) return `#${v.id}`;
  if (Array.isArray(v)) return `(${v.map(attrKey).join(',')})`;
  if (v === undefined) return '_';
  return JSON.stringify(v);
}

export type Dims = readonly Dim[];
