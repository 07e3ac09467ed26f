import type { Tensor } from '../../dsl/node.js';
import { u32 } from '../wgsl.js';
import { type KernelCode, type KernelIO, assemble, epilogueFn } from './common.js';

/**
 * GEMM skeletons shared by matmul and conv2d (implicit GEMM). The caller supplies WGSL functions
 *   loadA(p, i, k) -> f32, loadB(p, k, j, i) -> f32, store(p, i, j, acc)
 * for batch p, rows i < M, columns j < N, reduction k < K. Loads may be called with clamped
 * coordinates; stores only in bounds. Which skeleton is fastest depends on the adapter: register
 * blocking without workgroup memory wins on CPU rasterisers, workgroup-memory tiling on GPUs.
 */
export interface GemmShape {
  batch: number;
  m: number;
  n: number;
  k: number;
}

export type GemmVariant = 'naive' | 'rb4x4' | 'rb8x4' | 'ur8x8' | 'ur16x16' | 'tiled64';

export const GEMM_VARIANTS: readonly GemmVariant[] = ['naive', 'rb4x4', 'rb8x4', 'ur8x8', 'ur16x16', 'tiled64'];

export function gemmMain(v: GemmVariant, s: GemmShape): { code: string; workgroups: [number, number, number] } {
  if (s.batch > 65535) throw new Error(`internal: gemm batch ${s.batch} exceeds one dispatch dimension`);
  switch (v) {
    case 'naive': return naive(s);
    case 'rb4x4': return registerBlocked(s, 4, 4);
    case 'rb8x4': return registerBlocked(s, 8, 4);
    case 'ur8x8': return uniformRows(s, 8, 8, 8);
    case 'ur16x16': return uniformRows(s, 16, 16, 8);
    case 'tiled64': return tiled(s);
  }
}

/**
 * A whole GEMM kernel: the caller's loadA, loadB and store WGSL around the variant's skeleton, with the root's
 * fused epilogue (built after the caller's functions, so bindings keep their order).
 */
export function gemmKernel(
  io: KernelIO, root: Tensor, anchor: Tensor, variant: GemmVariant,
  parts: { readonly op: string; readonly shape: GemmShape; readonly loadA: string; readonly loadB: string; readonly store: string },
): KernelCode {
  const g = parts.shape;
  const main = gemmMain(variant, g);
  return {
    label: `${parts.op} ${anchor} [${g.batch}×${g.m}×${g.n}×${g.k}]`,
    variant,
    code: assemble(io, [parts.loadA, parts.loadB, epilogueFn(io, root, anchor), parts.store, main.code]),
    workgroups: main.workgroups,
    io,
  };
}

/** 0, 1, …, n − 1: the unrolled tile indices. */
const R = (n: number) => Array.from({ length: n }, (_, i) => i);

function naive(s: GemmShape) {
  // Columns past what one dispatch dimension holds (65535 workgroups of 8) are covered by striding.
  const gx = Math.min(Math.ceil(s.n / 8), 65535);
  const code = `
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.y; let p = g.z;
  if (i >= ${u32(s.m)}) { return; }
  for (var j = g.x; j < ${u32(s.n)}; j = j + ${u32(gx * 8)}) {
    var acc = 0.0f;
    for (var k = 0u; k < ${u32(s.k)}; k = k + 1u) { acc = fma(loadA(p, i, k), loadB(p, k, j, i), acc); }
    store(p, i, j, acc);
  }
}`;
  return { code, workgroups: [gx, Math.ceil(s.m / 8), s.batch] as [number, number, number] };
}

function registerBlocked(s: GemmShape, tm: number, tn: number) {
  const lines: string[] = [];
  for (const a of R(tm)) for (const b of R(tn)) lines.push(`var acc${a}_${b} = 0.0f;`);
  const loop: string[] = [];
  for (const a of R(tm)) loop.push(`let a${a} = loadA(p, min(i0 + ${a}u, ${u32(s.m - 1)}), k);`);
  for (const b of R(tn)) loop.push(`let b${b} = loadB(p, k, min(j0 + ${b}u, ${u32(s.n - 1)}), i0);`);
  for (const a of R(tm)) for (const b of R(tn)) loop.push(`acc${a}_${b} = fma(a${a}, b${b}, acc${a}_${b});`);
  const stores: string[] = [];
  for (const a of R(tm)) for (const b of R(tn)) {
    stores.push(`if (i0 + ${a}u < ${u32(s.m)} && j0 + ${b}u < ${u32(s.n)}) { store(p, i0 + ${a}u, j0 + ${b}u, acc${a}_${b}); }`);
  }
  const code = `
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let j0 = g.x * ${tn}u; let i0 = g.y * ${tm}u; let p = g.z;
  if (i0 >= ${u32(s.m)} || j0 >= ${u32(s.n)}) { return; }
  ${lines.join('\n  ')}
  for (var k = 0u; k < ${u32(s.k)}; k = k + 1u) {
    ${loop.join('\n    ')}
  }
  ${stores.join('\n  ')}
}`;
  return { code, workgroups: [Math.ceil(s.n / (8 * tn)), Math.ceil(s.m / (8 * tm)), s.batch] as [number, number, number] };
}


/**
 * Register blocking with a thread's rows uniform across its workgroup: the TM rows come from the workgroup id
 * alone, the TN columns are strided by the workgroup width W (8 = one 256-bit SIMD batch on lavapipe). On CPU
 * rasterisers (one invocation per SIMD lane) the A loads are then uniform, i.e. one scalar load broadcast to all
 * lanes, and neighbouring lanes read neighbouring B columns. There is no divergent early return, so the
 * uniformity survives into the K loop; out-of-range rows/columns are clamped for loads and skipped for stores.
 * Large tiles (16×16: 256 FMAs per 16 uniform + 16 per-lane loads) measured ~1.9× rb8x4 on lavapipe; they
 * are capped at M rows and ceil(N/W) column strides; small shapes are what autotuning is for.
 */
function uniformRows(s: GemmShape, tmMax: number, tnMax: number, W: number) {
  // Narrow outputs (attention's probs·V has N = head dim, e.g. 40) get only as many column strides as they need.
  const tm = Math.max(1, Math.min(tmMax, s.m)), tn = Math.max(1, Math.min(tnMax, Math.ceil(s.n / W)));
  const init: string[] = [];
  for (const a of R(tm)) for (const b of R(tn)) init.push(`var acc${a}_${b} = 0.0f;`);
  const loop: string[] = [];
  const row = (a: number) => (s.m % tm === 0 ? `i0 + ${a}u` : `min(i0 + ${a}u, ${u32(s.m - 1)})`);
  for (const a of R(tm)) loop.push(`let a${a} = loadA(p, ${row(a)}, k);`);
  for (const b of R(tn)) loop.push(`let b${b} = loadB(p, k, min(jb + ${b * W}u, ${u32(s.n - 1)}), i0);`);
  for (const a of R(tm)) for (const b of R(tn)) loop.push(`acc${a}_${b} = fma(a${a}, b${b}, acc${a}_${b});`);
  const stores: string[] = [];
  for (const a of R(tm)) for (const b of R(tn)) {
    stores.push(`if (i0 + ${a}u < ${u32(s.m)} && jb + ${b * W}u < ${u32(s.n)}) { store(p, i0 + ${a}u, jb + ${b * W}u, acc${a}_${b}); }`);
  }
  const code = `
@compute @workgroup_size(${W}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i0 = wid.y * ${u32(tm)}; let jb = wid.x * ${u32(W * tn)} + lid.x; let p = wid.z;
  ${init.join('\n  ')}
  for (var k = 0u; k < ${u32(s.k)}; k = k + 1u) {
    ${loop.join('\n    ')}
  }
  ${stores.join('\n  ')}
}`;
  return { code, workgroups: [Math.ceil(s.n / (W * tn)), Math.ceil(s.m / tm), s.batch] as [number, number, number] };
}

/** 64×64 output tile per 16×16 workgroup, K in steps of 16 through workgroup memory, 4×4 per thread. */
function tiled(s: GemmShape) {
  const code = `
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tx = lid.x; let ty = lid.y; let t = ty * 16u + tx;
  let i0 = wid.y * 64u; let j0 = wid.x * 64u; let p = wid.z;
  var acc: array<f32, 16>;
  for (var q = 0u; q < 16u; q = q + 1u) { acc[q] = 0.0f; }
  for (var k0 = 0u; k0 < ${u32(s.k)}; k0 = k0 + 16u) {
    for (var l = 0u; l < 4u; l = l + 1u) {
      let e = t + l * 256u;
      let ii = e / 16u; let kk = e % 16u;
      let gi = i0 + ii; let gk = k0 + kk;
      As[kk * 64u + ii] = select(0.0f, loadA(p, min(gi, ${u32(s.m - 1)}), min(gk, ${u32(s.k - 1)})), gi < ${u32(s.m)} && gk < ${u32(s.k)});
      let kb = e / 64u; let jj = e % 64u;
      let gj = j0 + jj; let gkb = k0 + kb;
      Bs[kb * 64u + jj] = select(0.0f, loadB(p, min(gkb, ${u32(s.k - 1)}), min(gj, ${u32(s.n - 1)}), i0), gj < ${u32(s.n)} && gkb < ${u32(s.k)});
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var r = 0u; r < 4u; r = r + 1u) { a[r] = As[kk * 64u + ty + r * 16u]; b[r] = Bs[kk * 64u + tx + r * 16u]; }
      for (var r = 0u; r < 4u; r = r + 1u) {
        for (var c = 0u; c < 4u; c = c + 1u) { acc[r * 4u + c] = fma(a[r], b[c], acc[r * 4u + c]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r = r + 1u) {
    for (var c = 0u; c < 4u; c = c + 1u) {
      let i = i0 + ty + r * 16u; let j = j0 + tx + c * 16u;
      if (i < ${u32(s.m)} && j < ${u32(s.n)}) { store(p, i, j, acc[r * 4u + c]); }
    }
  }
}`;
  return { code, workgroups: [Math.ceil(s.n / 64), Math.ceil(s.m / 64), s.batch] as [number, number, number] };
}
