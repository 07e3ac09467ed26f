import type { Tensor } from '../../dsl/node.js';
import type { ConcreteShape } from '../../dsl/shape.js';
import { u32 } from '../wgsl.js';
import { type KernelCode, KernelIO, Scope } from './common.js';
import { type GemmShape, type GemmVariant, gemmKernel } from './gemm.js';

type Conv = Extract<Tensor['op'], { kind: 'conv2d' }>;

/** conv2d as an implicit GEMM: rows = output channels, columns = output pixels, K = Cin/groups·kH·kW. */
export function convShape(anchor: Tensor): GemmShape {
  const op = anchor.op as Conv;
  const [n, cout, oh, ow] = anchor.shape as ConcreteShape;
  const [, cpg, kh, kw] = op.w.shape as ConcreteShape;
  return { batch: n, m: cout, n: oh * ow, k: cpg * kh * kw };
}

export function convKernel(io: KernelIO, root: Tensor, anchor: Tensor, variant: GemmVariant): KernelCode {
  const op = anchor.op;
  if (op.kind !== 'conv2d') throw new Error('internal: convKernel');
  if (op.groups > 1 && variant !== 'naive') throw new Error(`internal: grouped conv2d has only the naive variant, not ${variant}`);
  const [, cout, oh, ow] = anchor.shape as ConcreteShape;
  const [, , h, w] = op.x.shape as ConcreteShape;
  const [, cpg, kh, kw] = op.w.shape as ConcreteShape;
  const g = convShape(anchor);
  const copg = cout / op.groups;

  const sa = new Scope(io);
  const wv = sa.value(op.w, ['i', 'ci', 'ky', 'kx']);
  const loadA = `fn loadA(p: u32, i: u32, k: u32) -> f32 {
  let ci = k / ${u32(kh * kw)}; let kr = k % ${u32(kh * kw)}; let ky = kr / ${u32(kw)}; let kx = kr % ${u32(kw)};
${sa.body()}
  return ${wv};
}`;
  const sb = new Scope(io);
  const chan = op.groups > 1 ? `(i / ${u32(copg)}) * ${u32(cpg)} + ci` : 'ci';
  const xv = sb.value(op.x, ['p', 'ch', 'yc', 'xc']);
  const loadB = `fn loadB(p: u32, k: u32, j: u32, i: u32) -> f32 {
  let ci = k / ${u32(kh * kw)}; let kr = k % ${u32(kh * kw)}; let ky = kr / ${u32(kw)}; let kx = kr % ${u32(kw)};
  let oy = j / ${u32(ow)}; let ox = j % ${u32(ow)};
  let iy = i32(oy * ${u32(op.stride[0])} + ky * ${u32(op.dilation[0])}) - ${op.padding[0]}i;
  let ix = i32(ox * ${u32(op.stride[1])} + kx * ${u32(op.dilation[1])}) - ${op.padding[1]}i;
  let inside = iy >= 0i && iy < ${h}i && ix >= 0i && ix < ${w}i;
  let ch = ${chan};
  let yc = u32(clamp(iy, 0i, ${h - 1}i)); let xc = u32(clamp(ix, 0i, ${w - 1}i));
${sb.body()}
  return select(0.0f, ${xv}, inside);
}`;
  const ss = new Scope(io);
  const bias = op.bias ? ` + ${ss.value(op.bias, ['i'])}` : '';
  const store = `fn store(p: u32, i: u32, j: u32, acc: f32) {
  let oy = j / ${u32(ow)}; let ox = j % ${u32(ow)};
${ss.body()}
  out0[(p * ${u32(cout)} + i) * ${u32(oh * ow)} + j] = epilogue(acc${bias}, p, i, oy, ox);
}`;
  return gemmKernel(io, root, anchor, variant, { op: 'conv2d', shape: g, loadA, loadB, store });
}
