// The few NumPy (1.24) array routines diffusers uses to place timesteps and
// interpolate sigmas, reproduced with NumPy's own float64 arithmetic, so that
// kiln's timesteps are diffusers' timesteps exactly (including arange's length
// quirk and round-half-to-even).

/** np.linspace(start, stop, num) in float64: i·step + start, the last point set to stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  const out: number[] = [];
  const div = num - 1;
  const delta = stop - start;
  for (let i = 0; i < num; i++) out.push(div > 0 ? i * (delta / div) + start : i * delta + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * np.arange(start, stop, step) for float arguments. NumPy sizes the result as
 * ceil((stop − start)/step) and fills it as start + i·δ with δ recomputed as
 * (start + step) − start; both can differ from the "obvious" answer in the last
 * bit, which is why diffusers' 'trailing' spacing sometimes yields one extra step.
 */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(i === 0 ? start : i === 1 ? start + step : start + i * delta);
  return out;
}

/** np.round / np.rint: to the nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * np.interp(x, arange(fp.length), fp): linear interpolation in a table sampled
 * at the integers, clamped at both ends, exact at the sample points.
 */
export function interpAtIntegers(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (Number.isNaN(x)) return x;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (j === x) return fp[j]!;
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}
