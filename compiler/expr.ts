import { match } from 'ts-pattern';
import { Tensor } from '../dsl/node.js';
import { type ConcreteShape, stridesOf } from '../dsl/shape.js';
import { isUniformScalar } from './fusion.js';
import { binary, compare, f32, u32, unary } from './wgsl.js';

/** What a kernel's generated code may read: buffers (bound on demand) and the per-run uniforms. */
export class KernelIO {
  /** Materialized tensors read by this kernel, in binding order (binding 0 is the output). */
  readonly reads: Tensor[] = [];
  usesUniforms = false;
  constructor(
    readonly materialized: ReadonlySet<Tensor>,
    readonly uniformSlot: (t: Tensor) => number,
  ) {}

  buffer(t: Tensor): string {
    let i = this.reads.indexOf(t);
    if (i < 0) i = this.reads.push(t) - 1;
    return `in${i}`;
  }

  /** WGSL declarations of the bindings used so far; call after all code is generated. */
  declarations(outType = 'f32'): string {
    const lines = [`@group(0) @binding(0) var<storage, read_write> out0: array<${outType}>;`];
    this.reads.forEach((t, i) => {
      lines.push(`@group(0) @binding(${i + 1}) var<storage, read> in${i}: array<${t.dtype === 'i32' ? 'i32' : 'f32'}>;`);
    });
    if (this.usesUniforms) lines.push(`struct Uniforms { s: array<vec4<f32>, ${UNIFORM_VEC4S}> };`, `@group(0) @binding(${this.reads.length + 1}) var<uniform> u: Uniforms;`);
    return lines.join('\n');
  }
}

export const UNIFORM_VEC4S = 64;

/**
 * Generates the WGSL for a node's value at a coordinate, inlining pointwise and data-movement ops until it
 * reaches materialized tensors (buffer loads). One Scope is one WGSL function body: values are bound to
 * `let`s once and reused, so shared subexpressions are computed once per coordinate.
 */
export class Scope {
  private readonly stmts: string[] = [];
  private readonly cache = new Map<string, string>();
  private counter = 0;

  constructor(
    readonly io: KernelIO,
    /** The absorbed anchor of an epilogue and the variable holding its value at this coordinate. */
    readonly acc?: { node: Tensor; value: string },
    /** The tensor this function computes: materialized, but computed here rather than loaded. */
    readonly root?: Tensor,
  ) {}

  body(): string {
    return this.stmts.map((s) => `  ${s}`).join('\n');
  }

  let(expr: string, type = ''): string {
    const v = `v${this.counter++}`;
    this.stmts.push(`let ${v}${type ? `: ${type}` : ''} = ${expr};`);
    return v;
  }

  /** Flat element offset of a coordinate in a row-major buffer of `shape` (size-1 dims contribute nothing). */
  offset(shape: ConcreteShape, idx: readonly string[]): string {
    const st = stridesOf(shape);
    const terms = idx.flatMap((e, a) => (shape[a] === 1 || e === '0u' ? [] : [st[a] === 1 ? e : `${e} * ${u32(st[a])}`]));
    return terms.length ? terms.join(' + ') : '0u';
  }

  /** The value of `t` at coordinate `idx` (u32 WGSL expressions, one per dim of t). */
  value(t: Tensor, idx: readonly string[]): string {
    if (this.acc && t === this.acc.node) return this.acc.value;
    if (t.op.kind === 'scalar') return f32(t.op.value);
    if (isUniformScalar(t)) {
      this.io.usesUniforms = true;
      const k = this.io.uniformSlot(t);
      return `u.s[${k >> 2}][${k & 3}]`;
    }
    const key = `${t.id}@${idx.join(',')}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const v = this.let(this.io.materialized.has(t) && t !== this.root ? this.load(t, idx) : this.compute(t, idx));
    this.cache.set(key, v);
    return v;
  }

  private load(t: Tensor, idx: readonly string[]): string {
    const e = `${this.io.buffer(t)}[${this.offset(t.shape as ConcreteShape, idx)}]`;
    return t.dtype === 'i32' ? `f32(${e})` : e;
  }

  /** Coordinates of an operand under NumPy broadcasting to the output shape. */
  private bcast(x: Tensor, idx: readonly string[]): string[] {
    const off = idx.length - x.rank;
    return x.shape.map((d, a) => (d === 1 ? '0u' : idx[a + off]));
  }

  private compute(t: Tensor, idx: readonly string[]): string {
    const shape = t.shape as ConcreteShape;
    return match(t.op)
      .with({ kind: 'unary' }, (o) => unary(o.fn, this.value(o.x, this.bcast(o.x, idx))))
      .with({ kind: 'binary' }, (o) => binary(o.fn, this.value(o.a, this.bcast(o.a, idx)), this.value(o.b, this.bcast(o.b, idx))))
      .with({ kind: 'compare' }, (o) => compare(o.fn, this.value(o.a, this.bcast(o.a, idx)), this.value(o.b, this.bcast(o.b, idx))))
      .with({ kind: 'where' }, (o) =>
        `select(${this.value(o.b, this.bcast(o.b, idx))}, ${this.value(o.a, this.bcast(o.a, idx))}, ${this.value(o.cond, this.bcast(o.cond, idx))} != 0.0f)`)
      .with({ kind: 'cast' }, (o) => {
        const x = this.value(o.x, idx);
        if (t.dtype === 'f16') return `k_f16(${x})`;
        if (t.dtype === 'i32') return `trunc(${x})`;
        return x;
      })
      .with({ kind: 'tag' }, (o) => this.value(o.x, idx))
      .with({ kind: 'expand' }, (o) => this.value(o.x, this.bcast(o.x, idx)))
      .with({ kind: 'reshape' }, (o) => {
        const flat = this.let(this.offset(shape, idx), 'u32');
        const src = stridesOf(o.x.shape as ConcreteShape).map((s, a) => {
          const d = o.x.shape[a] as number;
          if (d === 1) return '0u';
          const q = s === 1 ? flat : `(${flat} / ${u32(s)})`;
          return a === 0 ? q : `(${q} % ${u32(d)})`;
        });
        return this.value(o.x, src);
      })
      .with({ kind: 'permute' }, (o) => {
        const src = new Array<string>(idx.length);
        o.perm.forEach((a, i) => (src[a] = idx[i]));
        return this.value(o.x, src);
      })
      .with({ kind: 'slice' }, (o) =>
        this.value(o.x, idx.map((e, a) => {
          const s = o.starts[a], st = o.steps[a];
          const scaled = st === 1 ? e : `${e} * ${u32(st)}`;
          return s === 0 ? scaled : `(${scaled} + ${u32(s)})`;
        })))
      .with({ kind: 'upsample2x' }, (o) => this.value(o.x, idx.map((e, a) => (a >= idx.length - 2 ? `(${e} / 2u)` : e))))
      .with({ kind: 'pad' }, (o) => {
        const xs = o.x.shape as ConcreteShape;
        const conds: string[] = [];
        const src = idx.map((e, a) => {
          const b = o.before[a];
          if (b === 0 && xs[a] === shape[a]) return e;
          // Unsigned wrap-around makes "i - before < size" the whole bounds check.
          const s = b === 0 ? e : `(${e} - ${u32(b)})`;
          conds.push(`${s} < ${u32(xs[a])}`);
          return `min(${s}, ${u32(xs[a] - 1)})`;
        });
        return `select(${f32(o.value)}, ${this.value(o.x, src)}, ${conds.join(' && ')})`;
      })
      .with({ kind: 'concat' }, (o) => {
        let start = 0;
        let e = '';
        const parts = o.xs.map((x) => {
          const begin = start;
          start += x.shape[o.axis] as number;
          return { x, begin, end: start };
        });
        for (let i = parts.length - 1; i >= 0; i--) {
          const { x, begin, end } = parts[i];
          // Out-of-range local coordinates wrap (unsigned) and are clamped: the load stays in bounds, select drops it.
          const local = idx.map((c, a) => (a === o.axis ? `min(${begin === 0 ? c : `${c} - ${u32(begin)}`}, ${u32(end - begin - 1)})` : c));
          const val = this.value(x, local);
          e = i === parts.length - 1 ? val : `select(${e}, ${val}, ${idx[o.axis]} < ${u32(end)})`;
        }
        return e;
      })
      .with({ kind: 'gather' }, (o) => {
        const id = this.value(o.ids, idx.slice(0, -1));
        const vocab = o.table.shape[0] as number;
        const row = this.let(`u32(clamp(${id}, 0.0f, ${f32(vocab - 1)}))`, 'u32');
        const inRange = `(${id} >= 0.0f && ${id} < ${f32(vocab)})`;
        return `select(0.0f, ${this.value(o.table, [row, idx[idx.length - 1]])}, ${inRange})`;
      })
      .with(
        { kind: 'input' }, { kind: 'param' }, { kind: 'constant' }, { kind: 'scalar' }, { kind: 'reduce' }, { kind: 'softmax' },
        { kind: 'layerNorm' }, { kind: 'groupNorm' }, { kind: 'matmul' }, { kind: 'conv2d' }, { kind: 'attention' },
        (o) => {
          throw new Error(`internal: ${o.kind} ${t} must be materialized before it is read`);
        },
      )
      .exhaustive();
  }
}
