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
    .with('gelu_tanh', () => `(0.5f * ${x} * (1.0f + tanh(clamp(0.7978845608f * (${x} + 0.044715f * ${x} * ${x} * ${x}), -15.0f, 15.0f))))`)
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
// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below f32 resolution of the result).
fn k_erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * exp(-a * a);
  return select(-y, y, x >= 0.0f);
}
fn k_gelu(x: f32) -> f32 { return 0.5f * x * (1.0f + k_erf(x * 0.70710678118f)); }
// pow with NumPy's meaning for negative bases and integral exponents (WGSL's pow is undefined there).
fn k_pow(a: f32, b: f32) -> f32 {
  if (a >= 0.0f) { return select(pow(a, b), 1.0f, b == 0.0f); }
  let m = pow(-a, b);
  if (floor(b) != b) { return k_nan(); }
  return select(m, -m, fract(b * 0.5f) != 0.0f);
}
`;
