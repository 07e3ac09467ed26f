// The reference evaluator is the truth every kernel is compared with, so it is itself checked against
// answers computed by hand (or tabulated constants), never against another implementation of the same code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FeedError, ShapeError, attention, concat, constant, conv2d, evaluate, gather, groupNorm, input, layerNorm, matmul, max, mean,
  pad, pow, reshape, slice, softmax, softmaxDecomposed, sum, upsampleNearest2x, cast, gelu, scalar, where, gt, bindDims,
} from '../../dsl/index.js';
import { erf, roundToF16 } from '../../dsl/math.js';

const near = (got: ArrayLike<number>, want: readonly number[], tol = 1e-12, what = '') => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: got ${got[i]}, expected ${want[i]}`);
  }
};
const ev1 = (t: Parameters<typeof evaluate>[0][number], feeds: Parameters<typeof evaluate>[1] = {}) => Array.from(evaluate([t], feeds)[0]);

describe('erf and GELU', () => {
  // 1e-13: the Taylor series cancels a little just below 3 (≈2e-14 at 2.9), far below any float32 resolution.
  test('erf matches tabulated values to 1e-13 on both sides of the series/continued-fraction switch at 3', () => {
    const table: [number, number][] = [
      [0, 0], [1e-3, 0.0011283787909692365], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
      [2.9, 0.9999589021219005], [3.1, 0.9999883513426328], [3.5, 0.9999992569016276], [5, 0.9999999999984626],
    ];
    for (const [x, v] of table) {
      assert.ok(Math.abs(erf(x) - v) < 1e-13, `erf(${x}) = ${erf(x)}, expected ${v}`);
      assert.ok(Math.abs(erf(-x) + v) < 1e-13, `erf(${-x}) = ${erf(-x)}, expected ${-v}`);
    }
    assert.equal(erf(30), 1);
    assert.ok(Number.isNaN(erf(NaN)));
  });

  test('exact GELU at ±1 is ±Φ(±1): 0.8413447460685429 and -0.15865525393145707', () => {
    near(ev1(gelu(constant([1, -1, 0], [3]))), [0.8413447460685429, -0.15865525393145707, 0], 1e-14, 'gelu');
  });
});

describe('f16 rounding', () => {
  test('rounds to nearest, ties to even, with subnormals and overflow to infinity', () => {
    const cases: [number, number][] = [
      [1 + 2 ** -11, 1], // tie between 1 and 1+2⁻¹⁰: even is 1
      [1 + 3 * 2 ** -11, 1 + 2 ** -9], // tie between 1+2⁻¹⁰ (odd) and 1+2⁻⁹: even is the upper
      [1 + 2 ** -12, 1], [1 + 3 * 2 ** -12, 1 + 2 ** -10], [-(1 + 3 * 2 ** -12), -(1 + 2 ** -10)],
      [0.1, 0.0999755859375], [1 / 3, 0.333251953125], [1000.7, 1000.5],
      [65504, 65504], [65519, 65504], [65520, Infinity], [-70000, -Infinity],
      [2 ** -24, 2 ** -24], [2 ** -25, 0], [3 * 2 ** -25, 2 ** -23], [2 ** -14 + 2 ** -25, 2 ** -14],
    ];
    for (const [x, want] of cases) assert.equal(roundToF16(x), want, `roundToF16(${x})`);
    near(ev1(cast(constant([1000.7, 0.1], [2]), 'f16')), [1000.5, 0.0999755859375], 0, 'cast f16');
  });
});

describe('conv2d', () => {
  const x = constant([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const w = constant([1, 2, 3, 4], [1, 1, 2, 2]);

  test('padding 1, stride 2: cross-correlation (the kernel is not flipped) over the zero-padded input', () => {
    // Padded 5×5 input; windows start at (-1,-1), (-1,1), (1,-1), (1,1).
    //   (0,0): 4·1                 (0,1): 3·2 + 4·3 = 18
    //   (1,0): 2·4 + 4·7 = 36      (1,1): 1·5 + 2·6 + 3·8 + 4·9 = 77
    const y = conv2d(x, w, constant([0.5], [1]), { padding: 1, stride: 2 });
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    near(ev1(y), [4.5, 18.5, 36.5, 77.5], 0, 'conv');
  });

  test('asymmetric padding and stride per axis', () => {
    // padding (0, 1), stride (1, 2): rows 0..1, columns -1 and 1.
    const y = conv2d(x, w, undefined, { padding: [0, 1], stride: [1, 2] });
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    // (0,0): cols -1,0: 2·1 + 4·4 = 18   (0,1): cols 1,2: 1·2+2·3+3·5+4·6 = 47
    // (1,0): 2·4 + 4·7 = 36               (1,1): 1·5+2·6+3·8+4·9 = 77
    near(ev1(y), [18, 47, 36, 77], 0, 'conv');
  });

  test('dilation 2 samples every other pixel', () => {
    const x5 = constant(Array.from({ length: 25 }, (_, i) => i + 1), [1, 1, 5, 5]);
    const y = conv2d(x5, constant([1, 1, 1, 1], [1, 1, 2, 2]), undefined, { dilation: 2 });
    assert.deepEqual(y.shape, [1, 1, 3, 3]);
    // out(0,0) = x(0,0)+x(0,2)+x(2,0)+x(2,2) = 1+3+11+13; each step right adds 4, each step down adds 20.
    near(ev1(y), [28, 32, 36, 48, 52, 56, 68, 72, 76], 0, 'dilated');
  });

  test('groups keep channels apart; groups=1 mixes them', () => {
    const xc = constant([2, 3], [1, 2, 1, 1]);
    near(ev1(conv2d(xc, constant([10, 100], [2, 1, 1, 1]), undefined, { groups: 2 })), [20, 300], 0, 'grouped');
    near(ev1(conv2d(xc, constant([10, 100, 1, -1], [2, 2, 1, 1]))), [320, -1], 0, 'dense');
  });
});

describe('normalisation and softmax', () => {
  test('groupNorm normalises each (sample, group) over channels and space, then applies the per-channel affine', () => {
    // Two groups of two channels, no spatial dims: [1,2] → [-1,1], [3,4] → [-1,1] (eps 0: var 0.25 exactly).
    const x = constant([1, 2, 3, 4], [1, 4]);
    near(ev1(groupNorm(x, 2, undefined, undefined, 0)), [-1, 1, -1, 1], 1e-15, 'plain');
    near(ev1(groupNorm(x, 2, constant([1, 2, 3, 4], [4]), constant([0, 0, 1, 1], [4]), 0)), [-1, 2, -2, 5], 1e-15, 'affine');
    // One group over [C=2, H=2]: mean 2.5, variance 1.25.
    const s = Math.sqrt(1.25);
    near(ev1(groupNorm(constant([1, 2, 3, 4], [1, 2, 2]), 1, undefined, undefined, 0)), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], 1e-15, 'spatial');
    // eps enters under the square root: var 0.25, eps 0.75 → divide by 1.
    near(ev1(groupNorm(x, 2, undefined, undefined, 0.75)), [-0.5, 0.5, -0.5, 0.5], 1e-15, 'eps');
  });

  test('layerNorm over the last axis uses the biased variance', () => {
    const s = Math.sqrt(1.25);
    const t = Math.sqrt(5);
    near(ev1(layerNorm(constant([1, 2, 3, 4, 2, 4, 6, 8], [2, 4]), undefined, undefined, 0)),
      [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, -3 / t, -1 / t, 1 / t, 3 / t], 1e-15, 'rows');
    near(ev1(layerNorm(constant([1, 3], [2]), constant([2, 3], [2]), constant([1, 0], [2]), 0)), [-1, 3], 1e-15, 'affine');
  });

  test('softmax of [0, ln 2, ln 3] is [1/6, 2/6, 3/6], also shifted by 1000 (no overflow)', () => {
    const l = [0, Math.log(2), Math.log(3)];
    // 1e-12 for the shifted row: 1000 + ln 2 itself is only representable to ~1e-13.
    near(ev1(softmax(constant([...l, ...l.map((v) => v + 1000)], [2, 3]))), [1 / 6, 2 / 6, 3 / 6, 1 / 6, 2 / 6, 3 / 6], 1e-12, 'softmax');
    near(ev1(softmaxDecomposed(constant(l, [1, 3]))), [1 / 6, 2 / 6, 3 / 6], 1e-14, 'decomposed');
  });

  test('attention averages V by softmax weights; an additive mask removes a key', () => {
    const q = constant([1, 0], [1, 2]), k = constant([1, 0, 1, 0], [2, 2]), v = constant([2, 4], [2, 1]);
    near(ev1(attention(q, k, v)), [3], 1e-15, 'equal scores');
    near(ev1(attention(q, k, v, { mask: constant([0, -1e9], [1, 2]) })), [2], 1e-15, 'masked');
    // scale ln 3 makes the scores [ln 3, 0] → weights [3/4, 1/4].
    const k2 = constant([1, 0, 0, 1], [2, 2]);
    near(ev1(attention(q, k2, v, { scale: Math.log(3) })), [0.75 * 2 + 0.25 * 4], 1e-14, 'scale');
  });
});

describe('linear algebra, reductions and layout', () => {
  test('matmul [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]], and batch dims broadcast', () => {
    const a = constant([1, 2, 3, 4], [2, 2]), b = constant([5, 6, 7, 8, 1, 0, 0, 1], [2, 2, 2]);
    near(ev1(matmul(a, b)), [19, 22, 43, 50, 1, 2, 3, 4], 0, 'matmul');
  });

  test('sum/mean/max over chosen axes, with and without keepdims', () => {
    const x = constant([1, 5, 3, 4, 2, 6], [2, 3]);
    const s0 = sum(x, 0), m1 = mean(x, 1, true), mx = max(x, [0, 1]);
    assert.deepEqual(s0.shape, [3]);
    assert.deepEqual(m1.shape, [2, 1]);
    assert.deepEqual(mx.shape, []);
    near(ev1(s0), [5, 7, 9], 0, 'sum');
    near(ev1(m1), [3, 4], 0, 'mean');
    near(ev1(mx), [6], 0, 'max');
    near(ev1(max(x, -1, true)), [5, 6], 0, 'max last');
  });

  test('slice with a step and a negative start, pad, concat, upsample and reshape move the right elements', () => {
    const r = constant(Array.from({ length: 10 }, (_, i) => i + 1), [10]);
    near(ev1(slice(r, 0, -7, undefined, 3)), [4, 7, 10], 0, 'slice');
    near(ev1(pad(constant([1, 2, 3, 4], [2, 2]), [[1, 0], [0, 2]], 9)), [9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9], 0, 'pad');
    near(ev1(concat([constant([1, 2], [1, 2]), constant([3, 4, 5, 6], [2, 2])], 0)), [1, 2, 3, 4, 5, 6], 0, 'concat rows');
    near(ev1(concat([constant([1, 2], [2, 1]), constant([3, 4, 5, 6], [2, 2])], 1)), [1, 3, 4, 2, 5, 6], 0, 'concat cols');
    near(ev1(upsampleNearest2x(constant([1, 2, 3, 4], [1, 2, 2]))), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 0, 'upsample');
    near(ev1(reshape(constant([1, 2, 3, 4, 5, 6], [2, 3]), [3, -1])), [1, 2, 3, 4, 5, 6], 0, 'reshape');
  });

  test('gather reads rows by id and 0 for ids out of range (negative or ≥ V)', () => {
    const table = constant([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = input('ids', [5], 'i32');
    near(ev1(gather(table, ids), { ids: [2, 0, -1, 3, 1] }), [5, 6, 1, 2, 0, 0, 0, 0, 3, 4], 0, 'gather');
  });

  test('pow follows NumPy for negative bases: integral exponents keep the sign, fractional ones give NaN', () => {
    const got = ev1(pow(constant([-2, -2, 2, -8], [4]), constant([3, 2, 0.5, 1 / 3], [4])));
    near(got.slice(0, 3), [-8, 4, Math.SQRT2], 1e-15, 'pow');
    assert.ok(Number.isNaN(got[3]));
  });

  test('where picks a where cond ≠ 0 and broadcasts all three operands', () => {
    const x = constant([-1, 2, -3, 4], [2, 2]);
    near(ev1(where(gt(x, 0), x, scalar(0.5))), [0.5, 2, 0.5, 4], 0, 'where');
  });
});

describe('feeds and symbolic dims', () => {
  test('a missing feed and a wrongly sized feed are FeedErrors naming the input and both sizes', () => {
    const x = input('x', [2, 3]);
    assert.throws(() => evaluate([x], {}), (e: Error) => e instanceof FeedError && /input 'x' \[2,3\] has no value/.test(e.message));
    assert.throws(() => evaluate([x], { x: [1, 2] }), (e: Error) => e instanceof FeedError && /expected 6 values for \[2,3\], found 2/.test(e.message));
  });

  test('symbolic dims are bound by dims; left unbound they are a ShapeError that says so', () => {
    const x = input('x', ['B', 2]);
    const y = sum(x, 1);
    near(evaluate([y], { x: [1, 2, 3, 4, 5, 6] }, { dims: { B: 3 } })[0], [3, 7, 11], 0, 'bound');
    assert.deepEqual(bindDims([y], { B: 3 })[0].shape, [3]);
    assert.throws(() => evaluate([y], { x: [1, 2] }), (e: Error) => e instanceof ShapeError && /unbound symbolic dims \[B,2\]; pass dims/.test(e.message));
  });
});
