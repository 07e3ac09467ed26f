import type { Tensor } from '../../dsl/node.js';
import { type ConcreteShape, numel } from '../../dsl/shape.js';
import { f32, u32 } from '../wgsl.js';
import { type KernelCode, KernelIO, Scope, assemble, coordNames, epilogueFn, grid } from './common.js';
import { batchCoords } from './matmul.js';

const WG = 64;

/** [batch, Nq, Nk, d, dv] of an attention node. */
export function attentionDims(t: Tensor): [number, number, number, number, number] {
  const op = t.op as Extract<Tensor['op'], { kind: 'attention' }>;
  const s = t.shape as ConcreteShape;
  return [numel(s.slice(0, -2)), s[s.length - 2], op.k.shape[op.k.rank - 2] as number, op.q.shape[op.q.rank - 1] as number, s[s.length - 1]];
}

/**
 * Fused attention: each thread owns one query row and streams over the keys with an online softmax
 * (running max and sum), so the Nq×Nk matrix never exists in memory.
 */
export type AttentionVariant = 'online-row' | 'online-row-unrolled';
export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['online-row', 'online-row-unrolled'];

export function attentionKernel(io: KernelIO, root: Tensor, anchor: Tensor, variant: AttentionVariant = 'online-row'): KernelCode {
  const op = anchor.op;
  if (op.kind !== 'attention') throw new Error('internal: attentionKernel');
  const shape = anchor.shape as ConcreteShape;
  const batch = shape.slice(0, -2);
  const nq = shape[shape.length - 2], dv = shape[shape.length - 1];
  const d = op.q.shape[op.q.rank - 1] as number, nk = op.k.shape[op.k.rank - 2] as number;
  const total = numel(batch) * nq;
  const [gx, gy] = grid(Math.ceil(total / WG));
  const names = coordNames('b', batch.length);

  const operand = (name: string, t: Tensor, x: string, y: string) => {
    const off = batch.length - (t.rank - 2);
    const idx = [...t.shape.slice(0, -2).map((dd, a) => (dd === 1 ? '0u' : names[a + off])), x, y];
    const s = new Scope(io);
    const v = s.value(t, idx);
    return `fn ${name}(p: u32, ${x}: u32, ${y}: u32) -> f32 {\n  ${batchCoords(batch, names)}\n${s.body()}\n  return ${v};\n}`;
  };
  const fns = [operand('loadQ', op.q, 'i', 'c'), operand('loadK', op.k, 'j', 'c'), operand('loadV', op.v, 'j', 'c')];
  if (op.mask) fns.push(operand('loadMask', op.mask, 'i', 'j'));
  fns.push(`fn store(p: u32, i: u32, c: u32, v: f32) {
  ${batchCoords(batch, names)}
  out0[(p * ${u32(nq)} + i) * ${u32(dv)} + c] = epilogue(v, ${[...names, 'i', 'c'].join(', ')});
}`);
  const main = variant === 'online-row' ? `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.x + wid.y * ${gx}u) * ${WG}u + lid.x;
  if (g >= ${u32(total)}) { return; }
  let p = g / ${u32(nq)}; let i = g % ${u32(nq)};
  var q: array<f32, ${d}>;
  for (var c = 0u; c < ${u32(d)}; c = c + 1u) { q[c] = loadQ(p, i, c) * ${f32(op.scale)}; }
  var acc: array<f32, ${dv}>;
  for (var c = 0u; c < ${u32(dv)}; c = c + 1u) { acc[c] = 0.0f; }
  var m = -3.0e38f;
  var l = 0.0f;
  for (var j = 0u; j < ${u32(nk)}; j = j + 1u) {
    var s = 0.0f;
    for (var c = 0u; c < ${u32(d)}; c = c + 1u) { s = fma(q[c], loadK(p, j, c), s); }
    ${op.mask ? 's = s + loadMask(p, i, j);' : ''}
    let mn = max(m, s);
    let corr = exp(m - mn);
    let e = exp(s - mn);
    l = l * corr + e;
    for (var c = 0u; c < ${u32(dv)}; c = c + 1u) { acc[c] = fma(e, loadV(p, j, c), acc[c] * corr); }
    m = mn;
  }
  let inv = 1.0f / l;
  for (var c = 0u; c < ${u32(dv)}; c = c + 1u) { store(p, i, c, acc[c] * inv); }
}` : unrolledMain(gx, total, nq, nk, d, dv, op.scale, !!op.mask);
  return {
    label: `attention ${anchor} [${numel(batch)}×${nq}×${nk}×${d}]`,
    variant,
    code: assemble(io, [...fns, epilogueFn(io, root, anchor), main]),
    workgroups: [gx, gy, 1],
    io,
  };
}

/**
 * The same online softmax with the query row and the accumulator in named registers (code unrolled over the
 * head dimension): no dynamically indexed private arrays, which CPU rasterisers keep in memory.
 */
function unrolledMain(gx: number, total: number, nq: number, nk: number, d: number, dv: number, scale: number, mask: boolean): string {
  const R = (n: number) => Array.from({ length: n }, (_, i) => i);
  return `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = min((wid.x + wid.y * ${gx}u) * ${WG}u + lid.x, ${u32(total - 1)});
  let p = g / ${u32(nq)}; let i = g % ${u32(nq)};
  ${R(d).map((c) => `let q${c} = loadQ(p, i, ${c}u) * ${f32(scale)};`).join('\n  ')}
  ${R(dv).map((c) => `var a${c} = 0.0f;`).join('\n  ')}
  var m = -3.0e38f;
  var l = 0.0f;
  for (var j = 0u; j < ${u32(nk)}; j = j + 1u) {
    var s = ${mask ? 'loadMask(p, i, j)' : '0.0f'};
    ${R(d).map((c) => `s = fma(q${c}, loadK(p, j, ${c}u), s);`).join('\n    ')}
    let mn = max(m, s);
    let corr = exp(m - mn);
    let e = exp(s - mn);
    l = l * corr + e;
    ${R(dv).map((c) => `a${c} = fma(e, loadV(p, j, ${c}u), a${c} * corr);`).join('\n    ')}
    m = mn;
  }
  let inv = 1.0f / l;
  if ((wid.x + wid.y * ${gx}u) * ${WG}u + lid.x < ${u32(total)}) {
    ${R(dv).map((c) => `store(p, i, ${c}u, a${c} * inv);`).join('\n    ')}
  }
}`;
}
