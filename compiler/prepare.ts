import { match } from 'ts-pattern';
import { ShapeError } from '../dsl/errors.js';
import { bindDims, mapOperands, topoOrder } from '../dsl/graph.js';
import { type Op, Tensor, operands } from '../dsl/node.js';
import { matmul } from '../dsl/ops/linalg.js';
import { attentionProbs } from '../dsl/ops/attention.js';
import { tag } from '../dsl/ops/elementwise.js';
import { fmtShape, isConcrete } from '../dsl/shape.js';

export interface PrepareOptions {
  dims?: Readonly<Record<string, number>>;
  /** Names of tagged intermediates (and attention probabilities) to read back. */
  captures?: readonly string[];
}

export interface Prepared {
  outputs: Tensor[];
  /** Captured intermediates by name. */
  captures: Map<string, Tensor>;
}

/**
 * Graph → graph simplification before fusion: bind symbolic dims, drop tags nobody captures, split an
 * attention into explicit ops only where its probabilities are captured, fold scalar arithmetic.
 */
export function prepare(outputs: readonly Tensor[], o: PrepareOptions = {}): Prepared {
  const bound = o.dims ? bindDims(outputs, o.dims) : [...outputs];
  const wanted = new Set(o.captures ?? []);
  const found = new Map<string, Tensor>();
  const map = new Map<Tensor, Tensor>();
  for (const t of topoOrder(bound)) {
    if (!isConcrete(t.shape)) {
      const what = t.op.kind === 'input' || t.op.kind === 'param' ? `${t.op.kind} '${t.op.name}'` : t.op.kind;
      throw new ShapeError(`compile: ${what} has unbound symbolic dims ${fmtShape(t.shape)}; pass dims: { … }`);
    }
    const op = mapOperands(t.op, (x) => map.get(x)!);
    map.set(t, rewrite(t, op, wanted, found));
  }
  const missing = [...wanted].filter((n) => !found.has(n));
  if (missing.length) {
    const known = [...new Set(topoOrder(bound).flatMap((t) => (t.op.kind === 'tag' ? [t.op.name] : t.op.kind === 'attention' && t.op.probsName ? [t.op.probsName] : [])))];
    throw new ShapeError(`compile: no intermediate named ${missing.map((m) => `'${m}'`).join(', ')} in this graph; known names: ${known.slice(0, 20).join(', ') || 'none'}`);
  }
  return { outputs: bound.map((t) => map.get(t)!), captures: found };
}

function rewrite(t: Tensor, op: Op, wanted: Set<string>, found: Map<string, Tensor>): Tensor {
  return match(op)
    .with({ kind: 'tag' }, (o) => {
      if (!wanted.has(o.name)) return o.x;
      const r = Tensor.make(o, t.shape, t.dtype);
      found.set(o.name, r);
      return r;
    })
    .with({ kind: 'attention' }, (o) => {
      if (!o.probsName || !wanted.has(o.probsName)) return Tensor.make(o, t.shape, t.dtype);
      const probs = tag(attentionProbs(o.q, o.k, o.scale, o.mask), o.probsName);
      found.set(o.probsName, probs);
      return matmul(probs, o.v);
    })
    .with({ kind: 'binary' }, (o) => {
      const a = o.a.op, b = o.b.op;
      if (a.kind === 'scalar' && b.kind === 'scalar') {
        const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y,
          div: (x: number, y: number) => x / y, pow: Math.pow, max: Math.max, min: Math.min }[o.fn];
        return Tensor.make({ kind: 'scalar', value: f(a.value, b.value) }, [], 'f32');
      }
      // x·1, x+0, x/1 are no-ops when they do not broadcast x.
      const unit = (s: Tensor, v: number) => s.op.kind === 'scalar' && s.op.value === v;
      if (((o.fn === 'mul' && unit(o.b, 1)) || ((o.fn === 'add' || o.fn === 'sub') && unit(o.b, 0)) || (o.fn === 'div' && unit(o.b, 1))) && o.a.shape.length === t.shape.length) return o.a;
      if (((o.fn === 'mul' && unit(o.a, 1)) || (o.fn === 'add' && unit(o.a, 0))) && o.b.shape.length === t.shape.length) return o.b;
      return Tensor.make(o, t.shape, t.dtype);
    })
    .otherwise((o) => (operands(o).every((x, i) => x === operands(t.op)[i]) ? t : Tensor.make(o, t.shape, t.dtype)));
}
