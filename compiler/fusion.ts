import { useCounts, topoOrder } from '../dsl/graph.js';
import { type OpKind, Tensor, operands } from '../dsl/node.js';
import { sameShape } from '../dsl/shape.js';

/** Ops with a kernel family of their own; everything else is inlined into the kernels that read it. */
const ANCHORS: ReadonlySet<OpKind> = new Set(['reduce', 'softmax', 'layerNorm', 'groupNorm', 'matmul', 'conv2d', 'attention']);
/** Pointwise ops: value at a coordinate depends on operands at the same (broadcast) coordinate only. */
const POINTWISE: ReadonlySet<OpKind> = new Set(['unary', 'binary', 'compare', 'where', 'cast', 'tag', 'scalar']);
/** Ops that only move data: inlining them costs index arithmetic, never recomputation. */
const INJECTIVE: ReadonlySet<OpKind> = new Set(['reshape', 'permute', 'slice', 'pad', 'concat', 'expand', 'upsample2x', 'gather']);
/** Anchor operands read many times per output: inlining arithmetic into them would repeat it. */
const HEAVY_READERS: ReadonlySet<OpKind> = new Set(['matmul', 'conv2d', 'attention']);

export const isAnchor = (t: Tensor) => ANCHORS.has(t.op.kind);
/** Rank-0 inputs live in the uniform buffer: per-run scalars such as the timestep. */
export const isUniformScalar = (t: Tensor) => t.op.kind === 'input' && t.rank === 0 && t.dtype !== 'i32';
/** Tensors whose buffers are filled from the host, not by a kernel. */
export const isSource = (t: Tensor) => (t.op.kind === 'input' && !isUniformScalar(t)) || t.op.kind === 'param' || t.op.kind === 'constant';

/** One compute kernel: it writes `root`; `anchor` (if any) is the heavy op it is built around. */
export interface KernelGroup {
  root: Tensor;
  anchor?: Tensor;
}

export interface FusionPlan {
  order: Tensor[];
  /** Nodes that own a buffer: sources, kernel outputs. */
  materialized: Set<Tensor>;
  kernels: KernelGroup[];
}

/**
 * Decide which nodes get buffers and which anchor each kernel is built around. Rules, in order:
 * outputs, sources and anchors are materialized; a pointwise node read by several consumers is
 * materialized (computed once), as is arithmetic that feeds a heavy reader; everything else is inlined.
 * Then each materialized pointwise root absorbs one anchor of its own shape that only it reads (the
 * epilogue fusion: matmul+bias+GELU, groupNorm+SiLU, conv+residual, …).
 */
export function planFusion(outputs: readonly Tensor[], pinned: readonly Tensor[] = []): FusionPlan {
  const order = topoOrder([...outputs, ...pinned]);
  const uses = useCounts(order);
  const outSet = new Set([...outputs, ...pinned]);
  const materialized = new Set<Tensor>();
  for (const t of order) {
    if (outSet.has(t)) materialized.add(t);
    else if (isUniformScalar(t) || t.op.kind === 'scalar') continue;
    else if (isSource(t) || isAnchor(t)) materialized.add(t);
    else if (POINTWISE.has(t.op.kind) && (uses.get(t) ?? 0) > 1 && hasArithmetic(t, materialized)) materialized.add(t);
  }
  for (const t of order) {
    if (!HEAVY_READERS.has(t.op.kind)) continue;
    for (const x of operands(t.op)) if (!materialized.has(x) && hasArithmetic(x, materialized)) materialized.add(x);
  }
  const absorbed = new Set<Tensor>();
  const kernels: KernelGroup[] = [];
  for (const t of order) {
    if (!materialized.has(t) || isSource(t) || absorbed.has(t)) continue;
    if (isAnchor(t)) {
      kernels.push({ root: t, anchor: t });
      continue;
    }
    const anchor = findEpilogueAnchor(t, materialized, uses, outSet);
    if (anchor) {
      absorbed.add(anchor);
      const i = kernels.findIndex((k) => k.root === anchor);
      if (i >= 0) kernels.splice(i, 1);
      materialized.delete(anchor);
    }
    kernels.push({ root: t, anchor });
  }
  return { order, materialized, kernels };
}

/** Does computing `t` (up to materialized nodes) involve any arithmetic, as opposed to moving data? */
function hasArithmetic(t: Tensor, materialized: Set<Tensor>): boolean {
  const seen = new Set<Tensor>();
  const walk = (x: Tensor): boolean => {
    if (materialized.has(x) || seen.has(x)) return false;
    seen.add(x);
    if (x.op.kind === 'unary' || x.op.kind === 'binary' || x.op.kind === 'compare' || x.op.kind === 'where') return true;
    return operands(x.op).some(walk);
  };
  return walk(t);
}

/** An anchor reachable from `root` through same-shape pointwise ops only, read by nothing else. */
function findEpilogueAnchor(root: Tensor, materialized: Set<Tensor>, uses: Map<Tensor, number>, outputs: Set<Tensor>): Tensor | undefined {
  const stack = [root];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t !== root && isAnchor(t)) {
      if (uses.get(t) === 1 && !outputs.has(t) && sameShape(t.shape, root.shape)) return t;
      continue;
    }
    if (t !== root && materialized.has(t)) continue;
    // A node inlined into other kernels too (a cast read twice, say) must not hide the anchor from them.
    if (t !== root && (uses.get(t) ?? 0) > 1) continue;
    if (!POINTWISE.has(t.op.kind) || !sameShape(t.shape, root.shape)) continue;
    for (const x of operands(t.op)) stack.push(x);
  }
  return undefined;
}
