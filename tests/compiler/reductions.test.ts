// Reductions and row kernels (sum/mean/max, softmax, layer norm, group norm) with fused prologues and
// epilogues agree with the evaluator on odd row lengths, rows longer and shorter than a workgroup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import { expectMatchesEvaluator, gpuProperty, numelOf, openTestDevice, randomData, seedArb, shapeArb } from '../support/gpu.js';

const dev = await openTestDevice();

test('sum, mean and max over any set of axes, with and without keepdims, of an inlined expression', async () => {
  // Rank ≤ 3 and ≤ 1200 elements: lavapipe fully unrolls nested reduction loops with small constant trip counts,
  // so a reduction over [5,5,5,5] alone takes seconds to build (rank 4 has a fixed case below).
  const arb = shapeArb({ minRank: 1, maxRank: 3, maxNumel: 1200 }).chain((shape) => fc.record({
    shape: fc.constant(shape),
    axes: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: 1 }),
    negative: fc.boolean(),
    keepdims: fc.boolean(),
    seed: seedArb,
  }));
  await gpuProperty(arb, async ({ shape, axes, negative, keepdims, seed }) => {
    const x = k.input('x', shape);
    const ax = negative ? axes.map((a) => a - shape.length) : axes;
    // Each reduction reads its own expression: a shared one would be materialized once (an extra kernel).
    const outs = [k.mean(k.mul(k.sin(x), 1.5), ax, keepdims), k.max(k.mul(k.cos(x), 1.5), ax, keepdims), k.add(k.sum(x, ax, keepdims), 1)];
    const { stats } = await expectMatchesEvaluator(dev, outs, { x: randomData(numelOf(shape), seed, -1, 3) });
    assert.equal(stats.dispatches, 3, 'the +1 epilogue fuses into its reduction');
  }, 5);
});

test('a reduction over every axis gives a rank-0 result; rank-4 reductions over inner and outer axes', async () => {
  const x = k.input('x', [3, 17, 5]), x4 = k.input('x4', [2, 3, 5, 7]);
  const outs = [k.sum(x), k.max(x), k.mean(x, [0, 1, 2], true), k.sum(x4, [0, 2], true), k.max(x4, [-1, 1])];
  assert.deepEqual(outs[0].shape, []);
  await expectMatchesEvaluator(dev, outs, { x: randomData(255, 4), x4: randomData(210, 5) });
});

const rowsArb = (maxRank: number) => fc.record({
  lead: shapeArb({ minRank: 0, maxRank: maxRank - 1, maxNumel: 40, maxDim: 17 }),
  len: fc.constantFrom(1, 2, 3, 17, 63, 64, 65, 129, 300),
  seed: seedArb,
});

test('softmax over the last axis with a fused prologue (scale) and epilogue, also for large logits', async () => {
  await gpuProperty(rowsArb(3), async ({ lead, len, seed }) => {
    const shape = [...lead, len];
    const x = k.input('x', shape), s = k.input('s', []), big = k.input('big', shape);
    // Large logits come in as data (the same float32 values on both sides), not as x + 1000 computed in float32.
    const outs = [k.mul(k.softmax(k.mul(x, s)), 3), k.softmax(big)];
    const data = randomData(numelOf(shape), seed, -4, 4);
    await expectMatchesEvaluator(dev, outs, { x: data, s: 2.5, big: data.map((v) => v + 1000) });
  }, 3);
});

test('layerNorm with and without affine parameters (weight only, weight and bias), plus a fused epilogue', async () => {
  await gpuProperty(rowsArb(3), async ({ lead, len, seed }) => {
    const shape = [...lead, len];
    const x = k.input('x', shape), w = k.param('w', [len]), b = k.param('b', [len]);
    const outs = [k.layerNorm(x), k.gelu(k.layerNorm(k.add(x, 3), w, b, 1e-6)), k.layerNorm(x, w, undefined, 0.1)];
    await expectMatchesEvaluator(dev, outs, { x: randomData(numelOf(shape), seed) },
      { params: { w: randomData(len, seed + 1, 0.5, 2), b: randomData(len, seed + 2) } });
  }, 3);
});

test('groupNorm over spatial rank 0, 1 and 2, with and without affine, with a fused SiLU', async () => {
  const arb = fc.record({
    n: fc.constantFrom(1, 2),
    groups: fc.constantFrom(1, 2, 3, 4),
    perGroup: fc.constantFrom(1, 2, 3),
    spatial: fc.oneof(fc.constant([] as number[]), fc.array(fc.constantFrom(1, 3, 5, 9), { minLength: 1, maxLength: 2 })),
    seed: seedArb,
  });
  await gpuProperty(arb, async ({ n, groups, perGroup, spatial, seed }) => {
    const c = groups * perGroup;
    const shape = [n, c, ...spatial];
    const x = k.input('x', shape), w = k.param('w', [c]), b = k.param('b', [c]);
    const outs = [k.groupNorm(x, groups), k.silu(k.groupNorm(x, groups, w, b))];
    const { stats } = await expectMatchesEvaluator(dev, outs, { x: randomData(numelOf(shape), seed, -1, 2) },
      { params: { w: randomData(c, seed + 1, 0.5, 2), b: randomData(c, seed + 2) } });
    assert.equal(stats.dispatches, 2, 'group norm + SiLU is one kernel');
  }, 4);
});

test('row kernels with more than 65535 rows split their grid and normalise every row', async () => {
  const rows = 65537;
  const x = k.input('x', [rows, 3]);
  await expectMatchesEvaluator(dev, [k.softmax(x)], { x: randomData(rows * 3, 2, -3, 3) });
});
