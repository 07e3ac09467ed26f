import type { Tensor } from '../../dsl/node.js';
import { type ConcreteShape, numel } from '../../dsl/shape.js';
import { u32 } from '../wgsl.js';
import { type KernelCode, KernelIO, Scope, coordNames } from './common.js';
import { type GemmShape, type GemmVariant, gemmKernel } from './gemm.js';

/** Split flat batch index p into the output's batch coordinates (WGSL lines). */
export function batchCoords(batch: ConcreteShape, names: string[]): string {
  const lines = ['var pr = p;'];
  for (let a = batch.length - 1; a >= 0; a--) lines.push(`let ${names[a]} = pr % ${u32(batch[a])};`, `pr = pr / ${u32(batch[a])};`);
  return lines.join('\n  ');
}

/** An operand read at (batch coords of the output, x, y) with NumPy broadcasting of batch dims. */
function operandFn(io: KernelIO, name: string, t: Tensor, batch: ConcreteShape, x: string, y: string, extra = ''): string {
  const names = coordNames('b', batch.length);
  const off = batch.length - (t.rank - 2);
  const idx = [...t.shape.slice(0, -2).map((d, a) => (d === 1 ? '0u' : names[a + off])), x, y];
  const s = new Scope(io);
  const v = s.value(t, idx);
  return `fn ${name}(p: u32, ${x}: u32, ${y}: u32${extra}) -> f32 {\n  ${batchCoords(batch, names)}\n${s.body()}\n  return ${v};\n}`;
}

export function matmulShape(anchor: Tensor): GemmShape {
  const s = anchor.shape as ConcreteShape;
  const op = anchor.op as Extract<Tensor['op'], { kind: 'matmul' }>;
  return { batch: numel(s.slice(0, -2)), m: s[s.length - 2], n: s[s.length - 1], k: op.a.shape[op.a.rank - 1] as number };
}

export function matmulKernel(io: KernelIO, root: Tensor, anchor: Tensor, variant: GemmVariant): KernelCode {
  const op = anchor.op;
  if (op.kind !== 'matmul') throw new Error('internal: matmulKernel');
  const shape = anchor.shape as ConcreteShape;
  const batch = shape.slice(0, -2);
  const g = matmulShape(anchor);
  const names = coordNames('b', batch.length);
  const loadA = operandFn(io, 'loadA', op.a, batch, 'i', 'k');
  const loadB = operandFn(io, 'loadB', op.b, batch, 'k', 'j', ', i_unused: u32');
  const store = `fn store(p: u32, i: u32, j: u32, acc: f32) {
  ${batchCoords(batch, names)}
  out0[p * ${u32(g.m * g.n)} + i * ${u32(g.n)} + j] = epilogue(acc, ${[...names, 'i', 'j'].join(', ')});
}`;
  return gemmKernel(io, root, anchor, variant, { op: 'matmul', shape: g, loadA, loadB, store });
}
