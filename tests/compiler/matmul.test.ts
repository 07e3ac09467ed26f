// Every GEMM variant computes matmul and batched matmul (with batch broadcasting and fused epilogues)
// like the evaluator on odd M, N, K including 1: tails in every direction of every tiling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import { dimArb, expectMatchesEvaluator, gemmVariantsUnderTest, quickGemmVariants, gpuProperty, numelOf, openTestDevice, randomData, seedArb } from '../support/gpu.js';

const dev = await openTestDevice();

const feedsFor = (ts: k.Tensor[], seed: number) =>
  Object.fromEntries(ts.map((t, i) => [(t.op as { name: string }).name, randomData(numelOf(t.shape as number[]), seed + i)]));

// Tails in every direction: M = N = K = 1 with broadcast batches, and M, N just past 64 with K just past 128
// (the tiled variant's tile and K step; every register-blocked tile size divides neither), with an epilogue.
for (const variant of gemmVariantsUnderTest()) {
  test(`gemm variant ${variant}: 1×1×1 with broadcast batches, and 65×65×129 with a bias + SiLU + residual epilogue`, async () => {
    const a1 = k.input('a1', [2, 1, 1, 1]), b1 = k.input('b1', [3, 1, 1]); // → [2, 3, 1, 1]
    const a2 = k.input('a2', [65, 129]), b2 = k.input('b2', [129, 65]), bias = k.input('bias', [65]), res = k.input('res', [65, 65]);
    const outs = [k.matmul(a1, b1), k.add(k.silu(k.add(k.matmul(a2, b2), bias)), res)];
    const { stats } = await expectMatchesEvaluator(dev, outs, feedsFor([a1, b1, a2, b2, bias, res], 1), { variants: { matmul: [variant] } });
    assert.deepEqual(stats.kernels.map((x) => x.variant), [variant, variant]);
    assert.equal(stats.dispatches, 2, 'the epilogue is fused');
  });
}

const QUICK_VARIANTS = quickGemmVariants();

test(`random odd M, N, K, batch and variant (${QUICK_VARIANTS.join(', ')}) with a bias + activation + residual epilogue`, async () => {
  const arb = fc.record({ m: dimArb(), n: dimArb(), kk: dimArb(), batch: fc.constantFrom(1, 2, 3), variant: fc.constantFrom(...QUICK_VARIANTS), seed: seedArb });
  await gpuProperty(arb, async ({ m, n, kk, batch, variant, seed }) => {
    const a = k.input('a', [batch, m, kk]), b = k.input('b', [kk, n]), bias = k.input('bias', [n]), res = k.input('res', [batch, m, n]);
    const y = k.add(k.gelu(k.add(k.matmul(a, b), bias)), res);
    const { stats } = await expectMatchesEvaluator(dev, [y], feedsFor([a, b, bias, res], seed), { variants: { matmul: [variant] } });
    assert.equal(stats.dispatches, 1);
    assert.equal(stats.kernels[0].variant, variant);
  }, 5);
});

test('batched matmul broadcasts batch dims of either operand (NumPy rules), operands possibly transposed or computed', async () => {
  const arb = fc.record({
    m: dimArb(65), n: dimArb(65), kk: dimArb(65),
    ba: fc.constantFrom([2, 1], [1, 3], [3], [] as number[], [2, 3]),
    bb: fc.constantFrom([1, 3], [2, 1], [3], [] as number[]),
    seed: seedArb,
  }).filter(({ ba, bb }) => ba.length + bb.length > 0);
  await gpuProperty(arb, async ({ m, n, kk, ba, bb, seed }) => {
    const a = k.input('a', [...ba, m, kk]), bt = k.input('bt', [...bb, n, kk]);
    // b is read transposed (inlined permute); a is scaled by a computed factor (materialized before the matmul).
    const y = k.matmul(k.mul(a, k.exp(a)), k.transpose(bt));
    await expectMatchesEvaluator(dev, [y], feedsFor([a, bt], seed), { variants: { matmul: ['naive'] } });
  }, 4);
});

test('linear with bias and weights given as parameters, for rank-2 and rank-3 inputs', async () => {
  const x2 = k.input('x2', [5, 17]), x3 = k.input('x3', [2, 3, 17]);
  const w = k.param('w', [33, 17]), b = k.param('b', [33]);
  const outs = [k.linear(x2, w, b), k.linear(x3, w), k.linear(x3, w, b)];
  await expectMatchesEvaluator(dev, outs, feedsFor([x2, x3], 2), { params: { w: randomData(33 * 17, 7), b: randomData(33, 8) } });
});

test('the naive gemm handles N past 8·65535 columns (more workgroups than one dispatch dimension holds)', async () => {
  const n = 8 * 65535 + 9;
  const a = k.input('a', [2, 1]), b = k.input('b', [1, n]);
  await expectMatchesEvaluator(dev, [k.matmul(a, b)], { a: [2, -1], b: randomData(n, 1) }, { variants: { matmul: ['naive'] } });
});
