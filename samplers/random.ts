// PyTorch-compatible CPU random numbers, so that a seed gives kiln the same
// initial latent (and the same ancestral noise after it) as diffusers on the CPU:
// torch.manual_seed(seed); torch.randn(shape)  (float32), bit for bit.
//
// What PyTorch 1.13 does (aten CPUGeneratorImpl, DistributionTemplates.h,
// avx_mathfun.h), and what this file reproduces:
// - The engine is MT19937 seeded with the low 32 bits of the 64-bit seed
//   (negative seeds wrap modulo 2⁶⁴). One draw is 32 bits.
// - randn of a float32 tensor with ≥ 16 elements: first every element gets a
//   uniform (draw & 0xFFFFFF)·2⁻²⁴; then each block of 16 becomes 16 normals by
//   Box–Muller over the pairs (j, j+8): r = √(−2·log(1 − u_j)), θ = 2π·u_{j+8},
//   out_j = r·cos θ, out_{j+8} = r·sin θ. log, sin and cos are the Cephes float32
//   polynomials of avx_mathfun.h, with the multiply–adds GCC fused into FMAs.
//   If the size is not a multiple of 16, 16 fresh uniforms are drawn for the
//   last 16 elements, which are recomputed (overwriting some finished ones).
// - randn with fewer than 16 elements: element by element in float64 from two
//   53-bit uniforms (two draws each, high word first): r = √(−2·log1p(−u₂)),
//   θ = 2π·u₁, value r·cos θ; r·sin θ is cached in the generator and returned
//   by the next such element, even in a later call.

import { RandomArgumentError } from './errors.js';
import { f32, fmaF32 } from './float32.js';

const N = 624;
const M = 397;

/** A torch.Generator on the CPU: MT19937 state plus the cached second Box–Muller value. */
export class TorchGenerator {
  private readonly state = new Uint32Array(N);
  private index = N;
  private cachedNormal: number | null = null;
  private seed = 0n;

  constructor(seed: number | bigint = 67280421310721n) {
    this.manualSeed(seed);
  }

  /** torch.Generator.manual_seed: resets the stream (and the cached normal). */
  manualSeed(seed: number | bigint): this {
    const s = normalizeSeed(seed);
    this.seed = s;
    const mt = this.state;
    mt[0] = Number(s & 0xffffffffn);
    for (let j = 1; j < N; j++) {
      const prev = mt[j - 1]!;
      mt[j] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + j) >>> 0;
    }
    this.index = N;
    this.cachedNormal = null;
    return this;
  }

  /** torch.Generator.initial_seed(), as an unsigned 64-bit value. */
  initialSeed(): bigint {
    return this.seed;
  }

  /** One 32-bit draw of the engine. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** torch.randn(shape, generator=this) as float32, continuing this generator's stream. */
  randn(shape: readonly number[]): Float32Array {
    const count = elementCount(shape);
    const out = new Float32Array(count);
    if (count >= 16) this.fillNormalVectorized(out);
    else for (let i = 0; i < count; i++) out[i] = this.nextDoubleNormal();
    return out;
  }

  /** An independent copy of the current state (torch: get_state / set_state). */
  clone(): TorchGenerator {
    const copy = new TorchGenerator(this.seed);
    copy.state.set(this.state);
    copy.index = this.index;
    copy.cachedNormal = this.cachedNormal;
    return copy;
  }

  private twist(): void {
    const mt = this.state;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % N]! & 0x7fffffff);
      mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  private uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) * 2 ** -24;
  }

  private uniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    // (hi·2³² + lo) masked to 53 bits: the top 21 bits of hi, all of lo.
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * 2 ** -53;
  }

  private nextDoubleNormal(): number {
    if (this.cachedNormal !== null) {
      const cached = this.cachedNormal;
      this.cachedNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  private fillNormalVectorized(out: Float32Array): void {
    const n = out.length;
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      boxMuller16(out, start);
    }
  }
}

/** torch.manual_seed(seed); torch.randn(shape) as float32. */
export function torchRandn(seed: number | bigint, shape: readonly number[]): Float32Array {
  return new TorchGenerator(seed).randn(shape);
}

function normalizeSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RandomArgumentError('seed', 'a safe integer or a bigint', seed);
  }
  const s = BigInt(seed);
  if (s < -(2n ** 63n) || s >= 2n ** 64n) throw new RandomArgumentError('seed', 'an integer in [−2⁶³, 2⁶⁴)', s);
  return BigInt.asUintN(64, s);
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  shape.forEach((d, axis) => {
    if (!Number.isInteger(d) || d < 0) throw new RandomArgumentError(`shape[${axis}]`, 'a non-negative integer', d);
    count *= d;
  });
  return count;
}

const TWO_PI_F32 = f32(2 * Math.PI);
const MIN_NORMAL_F32 = 1.1754943508222875e-38;
const SQRT_HALF_F32 = f32(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LOG_Q1 = f32(-2.1219444e-4);
const LOG_Q2 = f32(0.693359375);
const FOUR_OVER_PI = f32(1.27323954473516);
const DP = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8].map(f32);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);

const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);
const toBits = (x: number): number => ((bitsF32[0] = x), bitsU32[0]!);
const fromBits = (b: number): number => ((bitsU32[0] = b >>> 0), bitsF32[0]!);

/** avx_mathfun's log256_ps on one lane (natural log, x > 0). */
function cephesLog(input: number): number {
  let x = Math.max(input, MIN_NORMAL_F32);
  const bits = toBits(x);
  let e = f32((bits >>> 23) - 0x7f + 1);
  x = fromBits((bits & ~0x7f800000) | toBits(0.5));
  const below = x < SQRT_HALF_F32;
  const tmp = below ? x : 0;
  x = f32(x - 1);
  if (below) e = f32(e - 1);
  x = f32(x + tmp);
  const z = f32(x * x);
  let y = fmaF32(LOG_P[0]!, x, LOG_P[1]!);
  for (let k = 2; k < LOG_P.length; k++) y = fmaF32(y, x, LOG_P[k]!);
  y = f32(y * x);
  y = fmaF32(y, z, f32(e * LOG_Q1));
  y = fmaF32(z, -0.5, y);
  x = f32(x + y);
  return fmaF32(e, LOG_Q2, x);
}

/** avx_mathfun's sincos256_ps on one lane. */
function cephesSinCos(theta: number): { sin: number; cos: number } {
  const thetaBits = toBits(theta);
  let signSin = thetaBits & 0x80000000;
  let x = Math.abs(theta);
  let j = Math.trunc(f32(x * FOUR_OVER_PI)) | 0;
  j = (j + 1) & ~1;
  const q = j;
  signSin ^= (q & 4) << 29;
  const signCos = (~(q - 2) & 4) << 29;
  const usesSinePolynomialForSine = (q & 2) === 0;
  for (const d of DP) x = fmaF32(q, d, x);
  const z = f32(x * x);
  let yc = fmaF32(COS_P[0]!, z, COS_P[1]!);
  yc = fmaF32(yc, z, COS_P[2]!);
  yc = f32(yc * z);
  yc = fmaF32(yc, z, -f32(z * 0.5));
  yc = f32(yc + 1);
  let ys = fmaF32(SIN_P[0]!, z, SIN_P[1]!);
  ys = fmaF32(ys, z, SIN_P[2]!);
  ys = f32(ys * z);
  ys = fmaF32(ys, x, x);
  const sin = usesSinePolynomialForSine ? ys : yc;
  const cos = usesSinePolynomialForSine ? yc : ys;
  return { sin: fromBits(toBits(sin) ^ signSin), cos: fromBits(toBits(cos) ^ signCos) };
}

/** normal_fill_16_AVX2: 16 uniforms at data[start..start+16) become 16 standard normals. */
function boxMuller16(data: Float32Array, start: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - data[start + j]!);
    const u2 = data[start + j + 8]!;
    const radius = f32(Math.sqrt(f32(-2 * cephesLog(u1))));
    const { sin, cos } = cephesSinCos(f32(TWO_PI_F32 * u2));
    data[start + j] = f32(radius * cos);
    data[start + j + 8] = f32(radius * sin);
  }
}
