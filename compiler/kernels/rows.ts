import { match } from 'ts-pattern';
import type { Tensor } from '../../dsl/node.js';
import { type ConcreteShape, numel } from '../../dsl/shape.js';
import { f32, u32 } from '../wgsl.js';
import { type KernelCode, KernelIO, Scope, assemble, coordNames, epilogueFn, grid } from './common.js';

const WG = 64;

/**
 * Row kernels: softmax, layer norm and group norm. One workgroup per row reduces in workgroup memory,
 * then writes the row through the fused epilogue. In all three the output offset of (row r, element j)
 * is r·L + j, because a group of an NCHW tensor is contiguous.
 */
export function rowKernel(io: KernelIO, root: Tensor, anchor: Tensor): KernelCode {
  const op = anchor.op;
  if (op.kind !== 'softmax' && op.kind !== 'layerNorm' && op.kind !== 'groupNorm') throw new Error(`internal: rowKernel(${op.kind})`);
  const shape = anchor.shape as ConcreteShape;
  const names = coordNames('c', shape.length);
  const { rowLen, coords } = match(op)
    .with({ kind: 'groupNorm' }, (o) => {
      const c = shape[1], cg = c / o.groups, spatialShape = shape.slice(2), s = numel(spatialShape);
      const lines = [`let c0 = r / ${u32(o.groups)};`, `let c1 = (r % ${u32(o.groups)}) * ${u32(cg)} + j / ${u32(s)};`, `var sp = j % ${u32(s)};`];
      for (let a = spatialShape.length - 1; a >= 0; a--) {
        lines.push(`let c${a + 2} = sp % ${u32(spatialShape[a])};`, `sp = sp / ${u32(spatialShape[a])};`);
      }
      return { rowLen: cg * s, coords: lines.join('\n  ') };
    })
    .otherwise(() => {
      const lines = [`let c${shape.length - 1} = j;`, 'var rr = r;'];
      for (let a = shape.length - 2; a >= 0; a--) lines.push(`let c${a} = rr % ${u32(shape[a])};`, `rr = rr / ${u32(shape[a])};`);
      return { rowLen: shape[shape.length - 1], coords: lines.join('\n  ') };
    });
  const rows = numel(shape) / rowLen;
  const [gx, gy] = grid(rows);

  const xs = new Scope(io);
  const xv = xs.value(op.x, names);
  const xval = `fn xval(r: u32, j: u32) -> f32 {\n  ${coords}\n${xs.body()}\n  return ${xv};\n}`;

  // The affine part of the norms reads a per-channel weight/bias: channel axis 1 for group norm, last for layer norm.
  const ss = new Scope(io);
  let y = 'y';
  if (op.kind !== 'softmax') {
    const ch = op.kind === 'groupNorm' ? names[1] : names[names.length - 1];
    if (op.weight) y = `${y} * ${ss.value(op.weight, [ch])}`;
    if (op.bias) y = `(${y}) + ${ss.value(op.bias, [ch])}`;
  }
  const store = `fn store(r: u32, j: u32, y: f32) {\n  ${coords}\n${ss.body()}\n  out0[r * ${u32(rowLen)} + j] = epilogue(${y}, ${names.join(', ')});\n}`;

  const loop = (body: string) => `for (var j = lid; j < ${u32(rowLen)}; j = j + ${u32(WG)}) { ${body} }`;
  const passes = match(op.kind)
    .with('softmax', () => `
  var m = (-k_inf());
  ${loop('m = max(m, xval(r, j));')}
  m = reduce_max(m, lid);
  var s = 0.0f;
  ${loop('s = s + exp(xval(r, j) - m);')}
  s = reduce_sum(s, lid);
  let inv = 1.0f / s;
  ${loop('store(r, j, exp(xval(r, j) - m) * inv);')}`)
    .otherwise(() => `
  var s = 0.0f;
  ${loop('s = s + xval(r, j);')}
  let mean = reduce_sum(s, lid) / ${f32(rowLen)};
  var q = 0.0f;
  ${loop('let d = xval(r, j) - mean; q = q + d * d;')}
  let rstd = inverseSqrt(reduce_sum(q, lid) / ${f32(rowLen)} + ${f32((op as { eps: number }).eps)});
  ${loop('store(r, j, (xval(r, j) - mean) * rstd);')}`);

  const main = `
var<workgroup> red: array<f32, ${WG}>;
fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let t = red[0];
  workgroupBarrier();
  return t;
}
fn reduce_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let t = red[0];
  workgroupBarrier();
  return t;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let r = wid.x + wid.y * ${gx}u;
  if (r >= ${u32(rows)}) { return; }
  let lid = lid3.x;
  ${passes}
}`;
  return { label: `${op.kind} ${anchor}`, variant: 'row-wg64', code: assemble(io, [xval, epilogueFn(io, root, anchor), store, main]), workgroups: [gx, gy, 1], io };
}

/** sum/mean/max over any axes: one thread per output, a loop nest over the reduced axes. */
export function reduceKernel(io: KernelIO, root: Tensor, anchor: Tensor): KernelCode {
  const op = anchor.op;
  if (op.kind !== 'reduce') throw new Error('internal: reduceKernel');
  const xShape = op.x.shape as ConcreteShape;
  const outShape = anchor.shape as ConcreteShape;
  const total = numel(outShape);
  const [gx, gy] = grid(Math.ceil(total / WG));
  const outNames = coordNames('c', outShape.length);
  // Map output coordinates back to input coordinates; reduced axes become loop variables.
  let k = 0;
  const xIdx = xShape.map((_, a) => (op.axes.includes(a) ? `k${a}` : op.keepdims ? outNames[a] : outNames[k++]));
  const s = new Scope(io);
  const xv = s.value(op.x, xIdx);
  const xfn = `fn xval(${[...outNames, ...op.axes.map((a) => `k${a}`)].map((n) => `${n}: u32`).join(', ')}) -> f32 {\n${s.body()}\n  return ${xv};\n}`;
  const init = op.fn === 'max' ? '(-k_inf())' : '0.0f';
  const combine = op.fn === 'max' ? 'acc = max(acc, v);' : 'acc = acc + v;';
  // One flat loop over the reduced elements: nested constant-bound loops get fully unrolled by some drivers.
  const reduced = op.axes.map((a) => xShape[a]);
  const reducedCount = reduced.reduce((n, d) => n * d, 1);
  const split: string[] = ['var kr = kf;'];
  for (let q = op.axes.length - 1; q >= 0; q--) {
    const a = op.axes[q];
    split.push(q === 0 ? `let k${a} = kr;` : `let k${a} = kr % ${u32(reduced[q])}; kr = kr / ${u32(reduced[q])};`);
  }
  const body = `for (var kf = 0u; kf < ${u32(reducedCount)}; kf = kf + 1u) { ${split.join(' ')} let v = xval(${[...outNames, ...op.axes.map((a) => `k${a}`)].join(', ')}); ${combine} }`;
  const main = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * ${gx}u) * ${WG}u + lid.x;
  if (i >= ${u32(total)}) { return; }
  ${outShape.length ? unflattenInline(outShape, outNames) : ''}
  var acc = ${init};
  ${body}
  ${op.fn === 'mean' ? `acc = acc / ${f32(reducedCount)};` : ''}
  out0[i] = epilogue(acc${outNames.length ? ', ' : ''}${outNames.join(', ')});
}`;
  return { label: `reduce ${anchor}`, variant: 'loop', code: assemble(io, [xfn, epilogueFn(io, root, anchor), main]), workgroups: [gx, gy, 1], io };
}

function unflattenInline(shape: ConcreteShape, names: string[]): string {
  const lines = ['var rest = i;'];
  for (let a = shape.length - 1; a >= 0; a--) lines.push(`let ${names[a]} = rest % ${u32(shape[a])};`, `rest = rest / ${u32(shape[a])};`);
  return lines.join('\n  ');
}
