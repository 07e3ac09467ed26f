import { match } from 'ts-pattern';
import type { BinaryFn, CompareFn, UnaryFn } from '../dsl/node.js';

/** A WGSL f32 literal for any JS number (inf/nan through bit patterns; f32 rounding happens here). */
export function f32(v: number): string {
  if (Number.isNaN(v)) return 'k_nan()';
  const r = Math.fround(v);
  if (r === Infinity) return 'k_inf()';
  if (r === -Infinity) return '(-k_inf())';
  if (r === 0) return Object.is(r, -0) ? '-0.0f' : '0.0f';
  if (Math.abs(r) < 1.1754943508222875e-38) return `bitcast<f32>(${new Uint32Array(Float32Array.of(r).buffer)[0]}u)`;
  return `${r.toPrecision(9)}f`;
}

export const u32 = (v: number): string => `${v}u`;

export function unary(fn: UnaryFn, x: string): string {
  return match(fn)
    .with('neg', () => `(-${x})`)
    .with('exp', () => `exp(${x})`)
    .with('log', () => `log(${x})`)
    .with('sqrt', () => `sqrt(${x})`)
    .with('rsqrt', () => `inverseSqrt(${x})`)
    // tanh's textbook formula overflows to NaN for |x| > ~44 on some drivers; it is ±1 long before.
    .with('tanh', () => `tanh(clamp(${x}, -15.0f, 15.0f))`)
    .with('sigmoid', () => `(1.0f / (1.0f + exp(-${x})))`)
    .with('silu', () => `(${x} / (1.0f + exp(-${x})))`)
    .with('gelu', () => `k_gelu(${x})`)
    // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u): the same function without the cancellation of 1 + tanh(u) for negative x.
    .with('gelu_tanh', () => `(${x} / (1.0f + exp(-1.5957691216f * (${x} + 0.044715f * ${x} * ${x} * ${x}))))`)
    .with('quick_gelu', () => `(${x} / (1.0f + exp(-1.702f * ${x})))`)
    .with('abs', () => `abs(${x})`)
    .with('sin', () => `sin(${x})`)
    .with('cos', () => `cos(${x})`)
    .with('relu', () => `max(${x}, 0.0f)`)
    .with('recip', () => `(1.0f / ${x})`)
    .with('square', () => `(${x} * ${x})`)
    .with('floor', () => `floor(${x})`)
    .exhaustive();
}

export function binary(fn: BinaryFn, a: string, b: string): string {
  return match(fn)
    .with('add', () => `(${a} + ${b})`)
    .with('sub', () => `(${a} - ${b})`)
    .with('mul', () => `(${a} * ${b})`)
    .with('div', () => `(${a} / ${b})`)
    .with('pow', () => `k_pow(${a}, ${b})`)
    .with('max', () => `max(${a}, ${b})`)
    .with('min', () => `min(${a}, ${b})`)
    .exhaustive();
}

export function compare(fn: CompareFn, a: string, b: string): string {
  const o = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' }[fn];
  return `select(0.0f, 1.0f, ${a} ${o} ${b})`;
}

/** Helpers every kernel may call; unused ones cost nothing. */
export const PRELUDE = `
// Non-finite values must not be constant expressions in WGSL; reading them from a private variable defers them to run time.
var<private> k_special: vec2<u32> = vec2<u32>(0x7fc00000u, 0x7f800000u);
fn k_nan() -> f32 { return bitcast<f32>(k_special.x); }
fn k_inf() -> f32 { return bitcast<f32>(k_special.y); }
// erfc(z) for z ≥ 0 by Numerical Recipes' erfcc: relative error < 1.2e-7 everywhere, tails included.
fn k_erfc_pos(z: f32) -> f32 {
  let t = 1.0f / (1.0f + 0.5f * z);
  return t * exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f
    + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
}
fn k_erf(x: f32) -> f32 {
  let y = 1.0f - k_erfc_pos(abs(x));
  return select(-y, y, x >= 0.0f);
}
// GELU as 0.5·x·erfc(−x/√2): for negative x the tiny result comes straight from erfc, without 1 + erf(x) cancelling.
fn k_gelu(x: f32) -> f32 {
  let z = x * 0.70710678118f;
  let c = k_erfc_pos(abs(z));
  return 0.5f * x * select(c, 2.0f - c, z > 0.0f);
}
// Round to the nearest IEEE half (ties to even), kept in an f32. Bit arithmetic, not pack2x16float: drivers may
// fold unpack(pack(x)) into x (lavapipe does), and WGSL leaves pack's rounding direction to the implementation.
fn k_f16(x: f32) -> f32 {
  let a = abs(x);
  if (a >= 65520.0f) { return select(-k_inf(), k_inf(), x > 0.0f); }
  if (a < 6.103515625e-05f) { return round(x * 16777216.0f) * 5.9604644775390625e-08f; }
  let b = bitcast<u32>(x);
  return bitcast<f32>((b + 0x0fffu + ((b >> 13u) & 1u)) & 0xffffe000u);
}
// pow with NumPy's meaning for negative bases and integral exponents (WGSL's pow is undefined there).
fn k_pow(a: f32, b: f32) -> f32 {
  if (a >= 0.0f) { return select(pow(a, b), 1.0f, b == 0.0f); }
  let m = pow(-a, b);
  if (floor(b) != b) { return k_nan(); }
  return select(m, -m, fract(b * 0.5f) != 0.0f);
}
`;
