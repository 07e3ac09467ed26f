// Pointwise ops compiled to WGSL agree with the float64 evaluator on random shapes, values and broadcasts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import {
  broadcastOperandArb, expectMatchesEvaluator, numelOf, openTestDevice, gpuProperty, positiveData, prng, randomData, seedArb, shapeArb,
} from '../support/gpu.js';

const dev = await openTestDevice();

const UNARY: Record<k.UnaryFn, (x: k.Tensor) => k.Tensor> = {
  neg: k.neg, exp: k.exp, log: k.log, sqrt: k.sqrt, rsqrt: k.rsqrt, tanh: k.tanh, sigmoid: k.sigmoid, silu: k.silu, gelu: k.gelu,
  gelu_tanh: k.geluTanh, quick_gelu: k.quickGelu, abs: k.abs, sin: k.sin, cos: k.cos, relu: k.relu, recip: k.recip, square: k.square,
  floor: k.floor,
};
/** Functions only defined (or only well conditioned) for positive inputs get positive inputs. */
const POSITIVE_ONLY = new Set<k.UnaryFn>(['log', 'sqrt', 'rsqrt', 'recip']);

const BINARY: Record<k.BinaryFn, (a: k.Tensor, b: k.Tensor) => k.Tensor> = {
  add: k.add, sub: k.sub, mul: k.mul, div: k.div, pow: k.pow, max: k.maximum, min: k.minimum,
};

/** Values with |v| in [lo, hi] and a random sign: safe divisors. */
function awayFromZero(n: number, seed: number, lo = 0.5, hi = 2): Float32Array {
  const r = prng(seed ^ 0x5bd1e995);
  return randomData(n, seed, lo, hi).map((v) => (r() < 0.5 ? -v : v));
}

test('every unary function matches the evaluator on random shapes (positive inputs for log, sqrt, rsqrt, recip)', async () => {
  await gpuProperty(fc.record({ shape: shapeArb({ maxRank: 3 }), seed: seedArb }), async ({ shape, seed }) => {
    const x = k.input('x', shape), xp = k.input('xp', shape);
    const fns = Object.keys(UNARY) as k.UnaryFn[];
    const outs = fns.map((f) => UNARY[f](POSITIVE_ONLY.has(f) ? xp : x));
    const n = numelOf(shape);
    const { stats } = await expectMatchesEvaluator(dev, outs, { x: randomData(n, seed, -6, 6), xp: positiveData(n, seed + 1, 0.05, 9) });
    assert.equal(stats.dispatches, fns.length);
  }, 3);
});

test('unary functions stay finite and right at extreme arguments (overflowing exp inside tanh, sigmoid, SiLU, GELU)', async () => {
  const vals = [-100, -30, -16, -9.5, -1e-3, 1e-3, 9.5, 16, 30, 88, 100];
  const x = k.input('x', [vals.length]);
  const fns: k.UnaryFn[] = ['tanh', 'sigmoid', 'silu', 'gelu', 'gelu_tanh', 'quick_gelu', 'relu', 'abs', 'neg', 'floor'];
  await expectMatchesEvaluator(dev, fns.map((f) => UNARY[f](x)), { x: vals });
});

test('GELU (both forms), SiLU, sigmoid and quick-GELU keep float32 relative accuracy in the negative tail, where results are tiny', async () => {
  // [-5.5, -2]: beyond about -7 the float64 reference itself loses digits to 1 + erf and 1 + tanh.
  const x = k.input('x', [257]);
  await expectMatchesEvaluator(dev, [k.gelu(x), k.geluTanh(x), k.silu(x), k.sigmoid(x), k.quickGelu(x)], { x: randomData(257, 9, -5.5, -2) });
});

test('binary ops broadcast like NumPy (dropped leading dims, size-1 dims on either side)', async () => {
  const arb = shapeArb({ maxRank: 4, maxNumel: 1500 }).chain((out) =>
    fc.record({ out: fc.constant(out), as: broadcastOperandArb(out), bs: broadcastOperandArb(out), seed: seedArb }));
  await gpuProperty(arb, async ({ as, bs, seed }) => {
    const a = k.input('a', as), b = k.input('b', bs), ap = k.input('ap', as);
    const outs = (Object.keys(BINARY) as k.BinaryFn[]).map((f) => (f === 'pow' ? BINARY[f](ap, b) : BINARY[f](a, b)));
    const feeds = { a: randomData(numelOf(as), seed, -3, 3), ap: positiveData(numelOf(as), seed + 7, 0.1, 3), b: awayFromZero(numelOf(bs), seed + 1) };
    await expectMatchesEvaluator(dev, outs, feeds);
  }, 8);
});

test('pow of negative bases follows NumPy: integral exponents keep or flip the sign, others give NaN', async () => {
  const a = k.input('a', [4, 6]), e = k.input('e', [6]);
  await expectMatchesEvaluator(dev, [k.pow(a, e)], { a: awayFromZero(24, 3, 0.3, 2.5), e: [0, 1, 2, 3, -1, 0.5] });
});

test('compare ops give 1/0, and where selects with three-way broadcasting', async () => {
  const arb = shapeArb({ minRank: 1, maxRank: 3, maxNumel: 1500 }).chain((out) =>
    fc.record({ as: broadcastOperandArb(out), bs: broadcastOperandArb(out), cs: broadcastOperandArb(out), seed: seedArb }));
  await gpuProperty(arb, async ({ as, bs, cs, seed }) => {
    const a = k.input('a', as), b = k.input('b', bs), c = k.input('c', cs);
    // Small integers, so equality is hit often.
    const ints = (n: number, s: number) => randomData(n, s, -2, 2).map(Math.floor);
    const outs = [k.lt(a, b), k.le(a, b), k.gt(a, b), k.ge(a, b), k.eq(a, b), k.ne(a, b), k.where(c, a, b), k.where(k.gt(c, 0), a, 2.5)];
    await expectMatchesEvaluator(dev, outs, { a: ints(numelOf(as), seed), b: ints(numelOf(bs), seed + 1), c: ints(numelOf(cs), seed + 2) });
  }, 5);
});

test('cast to f16 rounds exactly like IEEE half (nearest, ties to even, subnormals, overflow to ±inf)', async () => {
  const ties = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 3 * 2 ** -11), 2 ** -25, 3 * 2 ** -25, 0.1, 1 / 3, 1000.7, 65504, 65519, 65520, -7e4, 2 ** -14 + 2 ** -25];
  const r = prng(11);
  // Magnitudes from 1e-8 to 6e4, both signs: normal and subnormal halves.
  const wide = Array.from({ length: 500 }, () => Math.fround((r() < 0.5 ? -1 : 1) * Math.exp(-18 + 29 * r())));
  const vals = [...ties, ...wide];
  const x = k.input('x', [vals.length]);
  // Exact: both sides compute the one correctly rounded half; rel-L2 0 means every element agrees.
  await expectMatchesEvaluator(dev, [k.cast(x, 'f16'), k.mul(k.cast(k.mul(x, 3), 'f16'), 0.5)], { x: vals }, { tol: 0 });
});

test('cast to i32 truncates toward zero, as an output and when read by another kernel', async () => {
  const vals = randomData(37, 5, -50, 50);
  const x = k.input('x', [37]);
  const i = k.cast(x, 'i32');
  await expectMatchesEvaluator(dev, [i, k.add(i, 0.25), k.reshape(i, [37, 1])], { x: vals }, { tol: 0 });
});

test('constants, scalar literals and uniform scalar inputs fold into one pointwise kernel', async () => {
  await gpuProperty(fc.record({ shape: shapeArb({ minRank: 1, maxRank: 3 }), seed: seedArb }), async ({ shape, seed }) => {
    const x = k.input('x', shape), s = k.input('s', []), t = k.input('t', []);
    const c = k.constant(Array.from(randomData(shape[shape.length - 1], seed + 3)), [shape[shape.length - 1]]);
    const y = k.add(k.mul(k.sub(x, c), s), k.div(k.scalar(3), k.add(k.square(t), 1)));
    const { stats } = await expectMatchesEvaluator(dev, [y], { x: randomData(numelOf(shape), seed), s: -1.75, t: 0.5 });
    assert.equal(stats.dispatches, 1);
  }, 3);
});

test('an output that is an input, a parameter or a constant reads back unchanged', async () => {
  const x = k.input('x', [3, 5]), w = k.param('w', [7]), c = k.constant([1.5, -2.5], [2]);
  await expectMatchesEvaluator(dev, [x, w, c], { x: randomData(15, 1) }, { params: { w: randomData(7, 2) }, tol: 0 });
});

test('a pointwise kernel over more than 65535 workgroups splits its grid over y and covers every element once', async () => {
  const n = 64 * 65535 + 65;
  const x = k.input('x', [n]);
  await expectMatchesEvaluator(dev, [k.mul(k.add(x, 1), 3)], { x: randomData(n, 1) });
});
