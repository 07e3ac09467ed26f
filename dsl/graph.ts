import { ShapeError } from './errors.js';
import { type Op, Tensor, operands } from './node.js';
import { type Dim, fmtShape } from './shape.js';

/** Nodes reachable from `outputs`, every node after its operands. */
export function topoOrder(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = outputs.map((t) => [t, false]);
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const x of operands(t.op).reverse()) if (!seen.has(x)) stack.push([x, false]);
  }
  return order;
}

/** How many times each node is read by other nodes of the graph. */
export function useCounts(order: readonly Tensor[]): Map<Tensor, number> {
  const uses = new Map<Tensor, number>();
  for (const t of order) for (const x of operands(t.op)) uses.set(x, (uses.get(x) ?? 0) + 1);
  return uses;
}

/** The graph's inputs and params by name; one name must mean one node. */
export function sources(order: readonly Tensor[]): { inputs: Map<string, Tensor>; params: Map<string, Tensor> } {
  const inputs = new Map<string, Tensor>(), params = new Map<string, Tensor>();
  for (const t of order) {
    if (t.op.kind !== 'input' && t.op.kind !== 'param') continue;
    const m = t.op.kind === 'input' ? inputs : params;
    const prev = m.get(t.op.name);
    if (prev && prev !== t) {
      throw new ShapeError(`${t.op.kind} '${t.op.name}' is declared twice with different shapes: ${fmtShape(prev.shape)} and ${fmtShape(t.shape)}`);
    }
    m.set(t.op.name, t);
  }
  return { inputs, params };
}

/** Replace named symbolic dimensions by numbers everywhere in the graph. */
export function bindDims(outputs: readonly Tensor[], dims: Readonly<Record<string, number>>): Tensor[] {
  const map = new Map<Tensor, Tensor>();
  const sub = (d: Dim): Dim => (typeof d === 'string' && d in dims ? dims[d] : d);
  for (const t of topoOrder(outputs)) {
    const shape = t.shape.map(sub);
    const op = mapOperands(t.op, (x) => map.get(x)!);
    const same = shape.every((d, i) => d === t.shape[i]) && operands(t.op).every((x) => map.get(x) === x);
    map.set(t, same ? t : Tensor.make(op, shape, t.dtype));
  }
  return outputs.map((t) => map.get(t)!);
}

/** A copy of an op with its operands replaced. */
export function mapOperands(op: Op, f: (t: Tensor) => Tensor): Op {
  const o: Record<string, unknown> = { ...op };
  for (const [k, v] of Object.entries(op)) {
    if (v instanceof Tensor) o[k] = f(v);
    else if (Array.isArray(v) && v.length && v[0] instanceof Tensor) o[k] = v.map(f);
  }
  return o as Op;
}
