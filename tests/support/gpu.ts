// Shared helpers for tests that compile graphs and run them on the device: one Device per test file,
// random (never all-zero) data, relative-L2 comparison against the float64 reference evaluator, and the
// fast-check arbitraries for shapes with odd sizes and NumPy broadcasting.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import fc from 'fast-check';
import { type Feeds, type Tensor, evaluate, fmtShape } from '../../dsl/index.js';
import { AutotuneCache } from '../../runtime/autotune.js';
import { type CompileOptions, compile } from '../../runtime/compile.js';
import { Device } from '../../runtime/device.js';
import type { Executable } from '../../runtime/executable.js';
import { GEMM_VARIANTS } from '../../compiler/kernels/gemm.js';
import { mulberry32 } from '../../models/configs/random.js';

/**
 * Open the test file's one Device; call it once at the top level of the file. It is destroyed after the
 * file's last test so the process can exit.
 */
export async function openTestDevice(): Promise<Device> {
  const dev = await Device.open();
  after(() => dev.destroy());
  return dev;
}

/** An autotune cache at a path that does not exist: tests never read or write the user's measurements. */
export const emptyCache = () => new AutotuneCache(join(tmpdir(), `kiln-test-no-cache-${process.pid}`, 'autotune.json'));

// ---------------------------------------------------------------------------------------------------
// Data

/** mulberry32 (seed 0 replaced by 0x9e3779b9), so a fast-check seed reproduces the exact tensor values. */
export const prng = (seed: number): (() => number) => mulberry32(seed >>> 0 || 0x9e3779b9);

/**
 * n uniform values in [lo, hi), rounded to float32 so the evaluator and the device see the same inputs.
 * Never exactly zero (and never all equal): a test fed zeros cannot tell most kernels apart.
 */
export function randomData(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => {
    const v = Math.fround(lo + (hi - lo) * r());
    return v === 0 ? Math.fround(lo + (hi - lo) * 0.37) || 0.37 : v;
  });
}

/** Strictly positive values, for log, sqrt, rsqrt and the like. */
export const positiveData = (n: number, seed: number, lo = 0.1, hi = 4) => randomData(n, seed, lo, hi);

/** scale·sin(0.37·i + phase) + offset, in float32: deterministic data with no zeros for a non-zero offset. */
export function sinData(n: number, phase = 0.1, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.fround(scale * Math.sin(0.37 * i + phase) + offset));
}

/** Integer ids in [lo, hi). */
export function idsData(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = prng(seed);
  return Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
}

export const numelOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------
// Comparison

/** ‖ours − ref‖₂ / ‖ref‖₂ in float64 (the plain norm of the difference where ref is all zeros). NaN anywhere → Infinity. */
export function relL2(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) throw new Error(`relL2: lengths differ (${ours.length} vs ${ref.length})`);
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i], b = ref[i];
    if (Number.isNaN(a) !== Number.isNaN(b)) return Infinity;
    if (Number.isNaN(a)) continue;
    if (a === b && !Number.isFinite(b)) continue; // equal infinities agree and carry no scale
    num += (a - b) ** 2;
    den += b * b;
  }
  const r = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  return Number.isNaN(r) ? Infinity : r;
}

/** The float32 tolerance of the suite: relative L2 1e-5. Looser values are stated (and justified) where used. */
export const F32_TOL = 1e-5;

export function assertClose(ours: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  const err = relL2(ours, ref);
  if (err <= tol) return;
  let worst = 0;
  for (let i = 1; i < ref.length; i++) if (!(Math.abs(ours[i] - ref[i]) <= Math.abs(ours[worst] - ref[worst]))) worst = i;
  assert.fail(`${what}: rel-L2 ${err.toExponential(2)} > ${tol.toExponential(0)} (worst at ${worst}: got ${ours[worst]}, expected ${ref[worst]}; ${ref.length} values)`);
}

export interface CheckOptions extends CompileOptions {
  /** Tolerance per output (or one for all); default F32_TOL. */
  tol?: number | readonly number[];
  /** Parameter values: passed to compile as weights and to the evaluator as feeds. */
  params?: Readonly<Record<string, ArrayLike<number>>>;
  /** Keep the executable (the caller destroys it); by default it is destroyed after the check. */
  keep?: boolean;
}

/**
 * Compile `outputs`, run them on `feeds`, and compare every output with the float64 evaluator.
 * Returns the executable's stats (and the executable itself when `keep` is set).
 */
export async function expectMatchesEvaluator(
  dev: Device, outputs: readonly Tensor[], feeds: Readonly<Record<string, ArrayLike<number> | number>>, o: CheckOptions = {},
): Promise<{ exe: Executable; stats: Executable['stats'] }> {
  const { tol, params, keep, ...co } = o;
  const exe = await compile(dev, outputs, { autotune: false, cache: emptyCache(), weights: params, ...co });
  try {
    await expectRunMatches(exe, outputs, feeds, { tol, params, dims: co.dims });
  } finally {
    if (!keep) exe.destroy();
  }
  return { exe, stats: exe.stats };
}

/** Run an executable on `feeds` and compare its outputs with the evaluator on the same feeds. */
export async function expectRunMatches(
  exe: Executable, outputs: readonly Tensor[], feeds: Readonly<Record<string, ArrayLike<number> | number>>,
  o: { tol?: number | readonly number[]; params?: Readonly<Record<string, ArrayLike<number>>>; dims?: Readonly<Record<string, number>> } = {},
): Promise<Float32Array[]> {
  const got = (await exe.run(feeds)).outputs;
  const ref = evaluate(outputs, { ...feeds, ...o.params } as Feeds, { dims: o.dims });
  outputs.forEach((t, i) => {
    const tol = typeof o.tol === 'number' ? o.tol : (o.tol?.[i] ?? F32_TOL);
    const variants = exe.stats.kernels.map((k) => k.variant).join(',');
    assertClose(got[i], ref[i], tol, `output ${i} ${t.op.kind}${fmtShape(t.shape)} [${variants}]`);
  });
  return got;
}

// ---------------------------------------------------------------------------------------------------
// GEMM variants

/**
 * The GEMM variants the per-variant tests cover: all of them, unless KILN_TEST_GEMM_VARIANTS names a subset
 * (comma-separated) for a quicker local run.
 */
export function gemmVariantsUnderTest(): readonly string[] {
  const want = (process.env.KILN_TEST_GEMM_VARIANTS ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  return want.length ? GEMM_VARIANTS.filter((v) => want.includes(v)) : GEMM_VARIANTS;
}

/**
 * Variants for random draws: those lavapipe builds in well under a second. tiled64 and large register tiles
 * take 5–130 s per pipeline there, so they get fixed shapes only (every variant is in the per-variant tests).
 */
export const quickGemmVariants = (): readonly string[] =>
  gemmVariantsUnderTest().filter((v) => ['naive', 'rb4x4', 'rb8x4', 'ur8x8', 'ur16x16'].includes(v));

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** Sizes the suite draws: 1, small odd sizes, and sizes just past powers of two (tails everywhere). */
export const SIZES = [1, 2, 3, 5, 17, 65, 129] as const;

export const dimArb = (max = 129, sizes: readonly number[] = SIZES) => fc.constantFrom(...sizes.filter((d) => d <= max));

/** A concrete shape of rank minRank..maxRank with at most maxNumel elements. */
export function shapeArb(o: { minRank?: number; maxRank?: number; maxNumel?: number; maxDim?: number } = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, maxNumel = 2048, maxDim = 129 } = o;
  return fc.array(dimArb(maxDim), { minLength: minRank, maxLength: maxRank }).filter((s) => numelOf(s) <= maxNumel);
}

/** An operand shape that NumPy-broadcasts to `out`: some leading dims dropped, some dims set to 1. */
export function broadcastOperandArb(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc.record({
    drop: fc.integer({ min: 0, max: out.length }),
    ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
  }).map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

export const seedArb = fc.integer({ min: 1, max: 0x7fffffff });

/**
 * Assert an async property with few runs: every run compiles kernels on a slow CPU rasteriser. Shrinking
 * compiles many more graphs, so it is off unless KILN_SHRINK=1 (the failing seed and path are printed either way).
 */
export async function gpuProperty<T>(arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, numRuns: number): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, predicate), { numRuns, endOnFailure: process.env.KILN_SHRINK !== '1' });
}
