// Float32 arithmetic as PyTorch's CPU kernels perform it. Diffusers builds its
// schedules from float32 tensors, so reproducing its timesteps and sigmas bit
// for bit needs the exact rounding sequence, including where GCC fused a
// multiply and an add into one FMA instruction.

export const f32 = Math.fround;

const scratchF64 = new Float64Array(1);
const scratchU64 = new BigUint64Array(scratchF64.buffer);
const scratchU32Of64 = new Uint32Array(scratchF64.buffer);
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The next float64 after `x` in the direction of `toward`. */
export function nextAfterF64(x: number, toward: number): number {
  if (Number.isNaN(x) || Number.isNaN(toward)) return NaN;
  if (x === toward) return toward;
  if (x === 0) return toward > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  scratchF64[0] = x;
  const up = (toward > x) === (x > 0);
  scratchU64[0] = up ? scratchU64[0]! + 1n : scratchU64[0]! - 1n;
  return scratchF64[0]!;
}

/** The next float32 after the float32 value `x` in the direction of `toward`. */
export function nextAfterF32(x: number, toward: number): number {
  if (Number.isNaN(x) || Number.isNaN(toward)) return NaN;
  if (x === toward) return toward;
  if (x === 0) return toward > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  scratchF32[0] = x;
  const up = (toward > x) === (x > 0);
  scratchU32[0] = up ? scratchU32[0]! + 1 : scratchU32[0]! - 1;
  return scratchF32[0]!;
}

/**
 * a·b + c for float32 operands, rounded once to float32 (what an FMA3
 * instruction returns). The product of two float32 values is exact in
 * float64; the sum is rounded to float64 and then to float32, and that double
 * rounding is only wrong when the float64 sum lands exactly halfway between two
 * float32 values, which the exact error term of the sum resolves.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f32(s);
  // Double rounding can only go wrong when the float64 sum sits exactly halfway
  // between two float32 values: its 29 dropped mantissa bits are 1 followed by zeros.
  scratchF64[0] = s;
  if ((scratchU32Of64[0]! & 0x1fffffff) !== 0x10000000 || !Number.isFinite(s)) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  const other = nextAfterF32(r, s);
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

/**
 * torch.linspace(start, end, steps, dtype=float32) on the CPU (torch 1.13, AVX2
 * build): the first half counts up from `start`, the second half down from
 * `end`; blocks of 16 are filled as two 8-wide vectors whose lanes are
 * base + k·step from a fused base, the tail element by element with FMA.
 * Verified bit for bit against torch for many ranges and lengths.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / f32(steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalar = (i: number): number =>
    i < halfway ? fmaF32(step, i, s) : fmaF32(-step, steps - i - 1, e);
  const vectorized = Math.floor(steps / 16) * 16;
  for (let base = 0; base < vectorized; base += 8) {
    const first = scalar(base);
    for (let lane = 0; lane < 8; lane++) out[base + lane] = f32(first + f32(lane * step));
  }
  for (let i = vectorized; i < steps; i++) out[i] = scalar(i);
  return out;
}

/** torch.cumprod on a float32 tensor: the running product is kept in double, each output rounded to float32. */
export function torchCumprodF32(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = f32(acc);
  }
  return out;
}
