import { match } from 'ts-pattern';
import { FeedError, ShapeError } from './errors.js';
import { bindDims, topoOrder } from './graph.js';
import type { BinaryFn, CompareFn, Op, Tensor, UnaryFn } from './node.js';
import { erf, roundToF16 } from './math.js';
import { type ConcreteShape, fmtShape, isConcrete, numel, sameShape, stridesOf } from './shape.js';

/** Values for inputs and params by name: arrays in row-major order, or plain numbers for scalars. */
export type Feeds = Readonly<Record<string, ArrayLike<number> | number>>;

export interface EvaluateOptions {
  /** Values for symbolic dimensions. */
  dims?: Readonly<Record<string, number>>;
}

/**
 * The reference evaluator: every op in float64 on the CPU, each written as plainly as possible.
 * It is the truth that every compiled kernel is tested against.
 */
export function evaluate(outputs: readonly Tensor[], feeds: Feeds, o: EvaluateOptions = {}): Float64Array[] {
  const outs = o.dims ? bindDims(outputs, o.dims) : outputs;
  const values = new Map<Tensor, Float64Array>();
  for (const t of topoOrder(outs)) {
    if (!isConcrete(t.shape)) throw new ShapeError(`evaluate: ${t} has unbound symbolic dims ${fmtShape(t.shape)}; pass dims`);
    values.set(t, evalNode(t, (x) => values.get(x)!, feeds));
  }
  return outs.map((t) => values.get(t)!);
}

const shp = (t: Tensor) => t.shape as ConcreteShape;

function evalNode(t: Tensor, v: (t: Tensor) => Float64Array, feeds: Feeds): Float64Array {
  const out = shp(t);
  return match<Op, Float64Array>(t.op)
    .with({ kind: 'input' }, { kind: 'param' }, (op) => readFeed(op.kind, op.name, t, feeds))
    .with({ kind: 'scalar' }, (op) => Float64Array.of(op.value))
    .with({ kind: 'constant' }, (op) => op.data)
    .with({ kind: 'tag' }, (op) => v(op.x))
    .with({ kind: 'cast' }, (op) => v(op.x).map(t.dtype === 'f16' ? roundToF16 : t.dtype === 'i32' ? Math.trunc : Math.fround))
    .with({ kind: 'unary' }, (op) => v(op.x).map(unaryFn(op.fn)))
    .with({ kind: 'binary' }, (op) => zip2(broadcastTo(v(op.a), shp(op.a), out), broadcastTo(v(op.b), shp(op.b), out), binaryFn(op.fn)))
    .with({ kind: 'compare' }, (op) => zip2(broadcastTo(v(op.a), shp(op.a), out), broadcastTo(v(op.b), shp(op.b), out), compareFn(op.fn)))
    .with({ kind: 'where' }, (op) => {
      const c = broadcastTo(v(op.cond), shp(op.cond), out), a = broadcastTo(v(op.a), shp(op.a), out), b = broadcastTo(v(op.b), shp(op.b), out);
      return c.map((ci, i) => (ci !== 0 ? a[i] : b[i]));
    })
    .with({ kind: 'expand' }, (op) => broadcastTo(v(op.x), shp(op.x), out))
    .with({ kind: 'reshape' }, (op) => v(op.x))
    .with({ kind: 'reduce' }, (op) => reduce(v(op.x), shp(op.x), op.axes, op.fn))
    .with({ kind: 'softmax' }, (op) => rows(v(op.x), out, (r) => {
      const m = Math.max(...r);
      const e = r.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    }))
    .with({ kind: 'layerNorm' }, (op) => {
      const w = op.weight && v(op.weight), b = op.bias && v(op.bias);
      return rows(v(op.x), out, (r) => normalize(r, op.eps).map((x, i) => x * (w ? w[i] : 1) + (b ? b[i] : 0)));
    })
    .with({ kind: 'groupNorm' }, (op) => groupNorm(v(op.x), out, op.groups, op.eps, op.weight && v(op.weight), op.bias && v(op.bias)))
    .with({ kind: 'matmul' }, (op) => matmul(v(op.a), shp(op.a), v(op.b), shp(op.b), out))
    .with({ kind: 'conv2d' }, (op) => conv2d(v(op.x), shp(op.x), v(op.w), shp(op.w), op.bias && v(op.bias), out, op))
    .with({ kind: 'permute' }, (op) => remap(out, (idx) => {
      const src = new Array<number>(idx.length);
      op.perm.forEach((a, i) => (src[a] = idx[i]));
      return flat(src, shp(op.x));
    }, v(op.x)))
    .with({ kind: 'slice' }, (op) => remap(out, (idx) => flat(idx.map((i, a) => op.starts[a] + i * op.steps[a]), shp(op.x)), v(op.x)))
    .with({ kind: 'pad' }, (op) => {
      const xs = shp(op.x), x = v(op.x);
      return mapIndex(out, (idx) => {
        const src = idx.map((i, a) => i - op.before[a]);
        return src.every((s, a) => s >= 0 && s < xs[a]) ? x[flat(src, xs)] : op.value;
      });
    })
    .with({ kind: 'concat' }, (op) => {
      const parts = op.xs.map((x) => ({ x: v(x), s: shp(x) }));
      return mapIndex(out, (idx) => {
        let i = idx[op.axis];
        for (const p of parts) {
          if (i < p.s[op.axis]) return p.x[flat(idx.map((d, a) => (a === op.axis ? i : d)), p.s)];
          i -= p.s[op.axis];
        }
        throw new Error('unreachable');
      });
    })
    .with({ kind: 'upsample2x' }, (op) => remap(out, (idx) => {
      const r = idx.length;
      return flat(idx.map((d, a) => (a >= r - 2 ? Math.floor(d / 2) : d)), shp(op.x));
    }, v(op.x)))
    .with({ kind: 'gather' }, (op) => {
      const table = v(op.table), ids = v(op.ids), [vocab, dim] = shp(op.table);
      const res = new Float64Array(ids.length * dim);
      ids.forEach((id, r) => {
        if (id >= 0 && id < vocab) for (let j = 0; j < dim; j++) res[r * dim + j] = table[id * dim + j];
      });
      return res;
    })
    .with({ kind: 'attention' }, (op) => attention(op, v, out))
    .exhaustive();
}

function readFeed(kind: string, name: string, t: Tensor, feeds: Feeds): Float64Array {
  const f = feeds[name];
  if (f === undefined) throw new FeedError(`${kind} '${name}' ${fmtShape(t.shape)} has no value in the feeds`);
  const n = numel(t.shape);
  if (typeof f === 'number') {
    if (n !== 1) throw new FeedError(`${kind} '${name}': expected ${n} values for ${fmtShape(t.shape)}, found a single number`);
    return Float64Array.of(f);
  }
  if (f.length !== n) throw new FeedError(`${kind} '${name}': expected ${n} values for ${fmtShape(t.shape)}, found ${f.length}`);
  return Float64Array.from(f);
}

export const unaryFn = (fn: UnaryFn): ((x: number) => number) =>
  match(fn)
    .with('neg', () => (x: number) => -x)
    .with('exp', () => Math.exp)
    .with('log', () => Math.log)
    .with('sqrt', () => Math.sqrt)
    .with('rsqrt', () => (x: number) => 1 / Math.sqrt(x))
    .with('tanh', () => Math.tanh)
    .with('sigmoid', () => (x: number) => 1 / (1 + Math.exp(-x)))
    .with('silu', () => (x: number) => x / (1 + Math.exp(-x)))
    .with('gelu', () => (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)))
    .with('gelu_tanh', () => (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))))
    .with('quick_gelu', () => (x: number) => x / (1 + Math.exp(-1.702 * x)))
    .with('abs', () => Math.abs)
    .with('sin', () => Math.sin)
    .with('cos', () => Math.cos)
    .with('relu', () => (x: number) => Math.max(0, x))
    .with('recip', () => (x: number) => 1 / x)
    .with('square', () => (x: number) => x * x)
    .with('floor', () => Math.floor)
    .exhaustive();

export const binaryFn = (fn: BinaryFn): ((a: number, b: number) => number) =>
  match(fn)
    .with('add', () => (a: number, b: number) => a + b)
    .with('sub', () => (a: number, b: number) => a - b)
    .with('mul', () => (a: number, b: number) => a * b)
    .with('div', () => (a: number, b: number) => a / b)
    .with('pow', () => Math.pow)
    .with('max', () => Math.max)
    .with('min', () => Math.min)
    .exhaustive();

const compareFn = (fn: CompareFn): ((a: number, b: number) => number) =>
  match(fn)
    .with('lt', () => (a: number, b: number) => +(a < b))
    .with('le', () => (a: number, b: number) => +(a <= b))
    .with('gt', () => (a: number, b: number) => +(a > b))
    .with('ge', () => (a: number, b: number) => +(a >= b))
    .with('eq', () => (a: number, b: number) => +(a === b))
    .with('ne', () => (a: number, b: number) => +(a !== b))
    .exhaustive();

function zip2(a: Float64Array, b: Float64Array, f: (x: number, y: number) => number): Float64Array {
  return a.map((x, i) => f(x, b[i]));
}

const flat = (idx: readonly number[], shape: ConcreteShape): number => idx.reduce((acc, i, a) => acc * shape[a] + i, 0);

function unflat(i: number, shape: ConcreteShape): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a];
    i = Math.floor(i / shape[a]);
  }
  return idx;
}

function mapIndex(shape: ConcreteShape, f: (idx: number[]) => number): Float64Array {
  const res = new Float64Array(numel(shape));
  for (let i = 0; i < res.length; i++) res[i] = f(unflat(i, shape));
  return res;
}

const remap = (shape: ConcreteShape, src: (idx: number[]) => number, x: Float64Array) => mapIndex(shape, (idx) => x[src(idx)]);

/** NumPy broadcasting, spelled out: missing leading dims and size-1 dims repeat. */
export function broadcastTo(x: Float64Array, from: ConcreteShape, to: ConcreteShape): Float64Array {
  if (sameShape(from, to)) return x;
  const off = to.length - from.length;
  return remap(to, (idx) => flat(from.map((d, a) => (d === 1 ? 0 : idx[a + off])), from), x);
}

function reduce(x: Float64Array, shape: ConcreteShape, axes: readonly number[], fn: 'sum' | 'mean' | 'max'): Float64Array {
  const outShape = shape.map((d, a) => (axes.includes(a) ? 1 : d));
  const res = new Float64Array(numel(outShape)).fill(fn === 'max' ? -Infinity : 0);
  for (let i = 0; i < x.length; i++) {
    const j = flat(unflat(i, shape).map((d, a) => (axes.includes(a) ? 0 : d)), outShape);
    res[j] = fn === 'max' ? Math.max(res[j], x[i]) : res[j] + x[i];
  }
  if (fn === 'mean') {
    const n = axes.reduce((acc, a) => acc * shape[a], 1);
    for (let j = 0; j < res.length; j++) res[j] /= n;
  }
  return res;
}

function rows(x: Float64Array, shape: ConcreteShape, f: (row: number[]) => number[]): Float64Array {
  const n = shape[shape.length - 1];
  const res = new Float64Array(x.length);
  for (let r = 0; r < x.length; r += n) res.set(f(Array.from(x.subarray(r, r + n))), r);
  return res;
}

function normalize(r: number[], eps: number): number[] {
  const m = r.reduce((a, b) => a + b, 0) / r.length;
  const var_ = r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length;
  return r.map((x) => (x - m) / Math.sqrt(var_ + eps));
}

function groupNorm(x: Float64Array, shape: ConcreteShape, groups: number, eps: number, w?: Float64Array, b?: Float64Array): Float64Array {
  const [n, c] = shape;
  const spatial = numel(shape.slice(2));
  const cg = c / groups, size = cg * spatial;
  const res = new Float64Array(x.length);
  for (let i = 0; i < n * groups; i++) {
    const base = i * size;
    const y = normalize(Array.from(x.subarray(base, base + size)), eps);
    const g = i % groups;
    for (let k = 0; k < size; k++) {
      const ch = g * cg + Math.floor(k / spatial);
      res[base + k] = y[k] * (w ? w[ch] : 1) + (b ? b[ch] : 0);
    }
  }
  return res;
}

function matmul(a: Float64Array, as: ConcreteShape, b: Float64Array, bs: ConcreteShape, out: ConcreteShape): Float64Array {
  const batch = out.slice(0, -2);
  const [m, k] = as.slice(-2), n = bs[bs.length - 1];
  const A = broadcastTo(a, as, [...batch, m, k]), B = broadcastTo(b, bs, [...batch, k, n]);
  const nb = numel(batch);
  const res = new Float64Array(nb * m * n);
  for (let p = 0; p < nb; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += A[p * m * k + i * k + q] * B[p * k * n + q * n + j];
        res[p * m * n + i * n + j] = s;
      }
  return res;
}

function conv2d(
  x: Float64Array, xs: ConcreteShape, w: Float64Array, ws: ConcreteShape, bias: Float64Array | undefined, out: ConcreteShape,
  op: Extract<Op, { kind: 'conv2d' }>,
): Float64Array {
  const [, cin, h, wd] = xs, [cout, cpg, kh, kw] = ws, [n, , oh, ow] = out;
  const copg = cout / op.groups;
  const res = new Float64Array(numel(out));
  const xst = stridesOf(xs);
  for (let b = 0; b < n; b++)
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / copg);
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          let s = bias ? bias[co] : 0;
          for (let ci = 0; ci < cpg; ci++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * op.stride[0] - op.padding[0] + ky * op.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xo * op.stride[1] - op.padding[1] + kx * op.dilation[1];
                if (ix < 0 || ix >= wd) continue;
                s += x[b * xst[0] + (g * cpg + ci) * xst[1] + iy * xst[2] + ix] * w[((co * cpg + ci) * kh + ky) * kw + kx];
              }
            }
          res[((b * cout + co) * oh + y) * ow + xo] = s;
        }
    }
  void cin;
  return res;
}

function attention(op: Extract<Op, { kind: 'attention' }>, v: (t: Tensor) => Float64Array, out: ConcreteShape): Float64Array {
  const batch = out.slice(0, -2);
  const [nq, d] = shp(op.q).slice(-2), nk = shp(op.k)[op.k.rank - 2], dv = out[out.length - 1];
  const Q = broadcastTo(v(op.q), shp(op.q), [...batch, nq, d]);
  const K = broadcastTo(v(op.k), shp(op.k), [...batch, nk, d]);
  const V = broadcastTo(v(op.v), shp(op.v), [...batch, nk, dv]);
  const M = op.mask ? broadcastTo(v(op.mask), shp(op.mask), [...batch, nq, nk]) : undefined;
  const res = new Float64Array(numel(out));
  for (let p = 0; p < numel(batch); p++)
    for (let i = 0; i < nq; i++) {
      const s = new Array<number>(nk);
      for (let j = 0; j < nk; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += Q[(p * nq + i) * d + c] * K[(p * nk + j) * d + c];
        s[j] = dot * op.scale + (M ? M[(p * nq + i) * nk + j] : 0);
      }
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dv; c++) {
        let acc = 0;
        for (let j = 0; j < nk; j++) acc += (e[j] / z) * V[(p * nk + j) * dv + c];
        res[(p * nq + i) * dv + c] = acc;
      }
    }
  return res;
}
