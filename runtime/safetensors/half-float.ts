/**
 * IEEE binary16 (F16) and bfloat16 (BF16) conversions, done on bit patterns so that every value,
 * subnormals, infinities and NaN payloads included, converts exactly.
 * Node 20 has no Float16Array; these fill that gap without a lookup table in module state.
 */

const HALF_SUBNORMAL_UNIT = 2 ** -24;

/** Half-precision bit patterns → float32. Exact: every half value is a float32 value. */
export function halfBitsToFloat32(halves: Uint16Array, out = new Float32Array(halves.length)): Float32Array {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i]!;
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: mantissa·2⁻²⁴ is a normal float32, so plain arithmetic is exact.
      const magnitude = mantissa * HALF_SUBNORMAL_UNIT;
      out[i] = sign !== 0 ? -magnitude : magnitude;
    } else if (exponent === 0x1f) {
      outBits[i] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      // Re-bias the exponent from 15 to 127; the 10 mantissa bits become the top of 23.
      outBits[i] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  return out;
}

/** bfloat16 bit patterns → float32. Exact: bfloat16 is the top half of a float32. */
export function bfloat16BitsToFloat32(halves: Uint16Array, out = new Float32Array(halves.length)): Float32Array {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < halves.length; i++) outBits[i] = (halves[i]! << 16) >>> 0;
  return out;
}

/**
 * float32 → half-precision bit patterns, rounding to nearest with ties to even (as torch's
 * `.half()` and GPU conversions do). Values beyond the half range become ±Infinity; NaN stays NaN.
 */
export function float32ToHalfBits(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32BitsToHalfBits(bits[i]!);
  return out;
}

function float32BitsToHalfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  const mantissa = f & 0x7fffff;
  if (exponent === 0xff) {
    // Keep NaN a NaN even when its payload lives only in the low bits that get dropped.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7c00 | 0x200 | (mantissa >>> 13);
  }
  if (exponent > 142) return sign | 0x7c00; // ≥ 2¹⁶: beyond the largest finite half even before rounding
  if (exponent >= 113) {
    // Normal half. A rounding carry out of the mantissa correctly bumps the exponent (up to Infinity).
    let half = sign | ((exponent - 112) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
    return half;
  }
  if (exponent < 102) return sign; // below 2⁻²⁵, half of the smallest subnormal: rounds to zero
  // Subnormal half: the 24-bit significand shifted down to units of 2⁻²⁴.
  const significand = mantissa | 0x800000;
  const shift = 126 - exponent;
  let half = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
  return sign | half;
}
