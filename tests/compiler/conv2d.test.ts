// conv2d as implicit GEMM: every variant for groups = 1, naive for grouped convolutions; stride, padding,
// dilation, bias and fused epilogues, on odd channel counts and spatial sizes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import { expectMatchesEvaluator, gemmVariantsUnderTest, gpuProperty, quickGemmVariants, numelOf, openTestDevice, randomData, seedArb } from '../support/gpu.js';

const dev = await openTestDevice();

for (const variant of gemmVariantsUnderTest()) {
  test(`conv2d variant ${variant}: stride (2,1), padding (1,2), dilation (1,2), bias, 65 out-channels, with a residual epilogue`, async () => {
    // K = 2·3·2 = 12: odd tails in M (65) and N (45); K past 16 is covered by the matmul tests (same GEMM skeletons),
    // and K = 18 makes lavapipe unroll tiled64's K loop into a 20-second pipeline build.
    const x = k.input('x', [2, 2, 9, 7]), w = k.param('w', [65, 2, 3, 2]), b = k.param('b', [65]);
    const y = k.conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] });
    assert.deepEqual(y.shape, [2, 65, 5, 9]);
    const r = k.input('r', y.shape);
    const { stats } = await expectMatchesEvaluator(dev, [k.add(y, r)], { x: randomData(2 * 2 * 9 * 7, 1), r: randomData(2 * 65 * 45, 2) },
      { params: { w: randomData(65 * 12, 3), b: randomData(65, 4) }, variants: { conv2d: [variant] } });
    assert.deepEqual(stats.kernels.map((s) => s.variant), [variant]);
  });
}

const CHEAP_VARIANTS = quickGemmVariants();

const convArb = (groupsFrom: readonly number[]) => fc.record({
  n: fc.constantFrom(1, 2),
  groups: fc.constantFrom(...groupsFrom),
  cinPerGroup: fc.constantFrom(1, 2, 3),
  coutPerGroup: fc.constantFrom(1, 2, 5),
  h: fc.constantFrom(1, 2, 5, 9),
  w: fc.constantFrom(1, 3, 8, 11),
  kh: fc.constantFrom(1, 2, 3),
  kw: fc.constantFrom(1, 3),
  stride: fc.tuple(fc.constantFrom(1, 2, 3), fc.constantFrom(1, 2)),
  padding: fc.tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1)),
  dilation: fc.tuple(fc.constantFrom(1, 2), fc.constantFrom(1, 3)),
  bias: fc.boolean(),
  seed: seedArb,
}).filter((c) => c.h + 2 * c.padding[0] >= c.dilation[0] * (c.kh - 1) + 1 && c.w + 2 * c.padding[1] >= c.dilation[1] * (c.kw - 1) + 1);

type ConvCase = ReturnType<typeof convArb> extends fc.Arbitrary<infer T> ? T : never;

async function checkConv(c: ConvCase, variant: string) {
  const cin = c.groups * c.cinPerGroup, cout = c.groups * c.coutPerGroup;
  const x = k.input('x', [c.n, cin, c.h, c.w]), w = k.param('w', [cout, c.cinPerGroup, c.kh, c.kw]), b = k.param('b', [cout]);
  const y = k.conv2d(x, w, c.bias ? b : undefined, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
  const params: Record<string, Float32Array> = { w: randomData(numelOf(w.shape as number[]), c.seed + 1) };
  if (c.bias) params.b = randomData(cout, c.seed + 2);
  const { stats } = await expectMatchesEvaluator(dev, [k.relu(y)], { x: randomData(numelOf(x.shape as number[]), c.seed) }, { params, variants: { conv2d: [variant] } });
  assert.equal(stats.dispatches, 1);
  return stats;
}

test(`random groups=1 convolutions (kernel, stride, padding, dilation, bias) on variants ${CHEAP_VARIANTS.join(', ')}`, async () => {
  await gpuProperty(fc.record({ c: convArb([1]), variant: fc.constantFrom(...CHEAP_VARIANTS) }), async ({ c, variant }) => {
    const stats = await checkConv(c, variant);
    assert.equal(stats.kernels[0].variant, variant);
  }, 5);
});

test('grouped and depthwise convolutions run the naive variant, whatever is asked for', async () => {
  await gpuProperty(convArb([2, 3]), async (c) => {
    const stats = await checkConv(c, 'rb4x4');
    assert.equal(stats.kernels[0].variant, 'naive');
  }, 4);
  // Depthwise: groups = channels.
  const x = k.input('x', [1, 5, 6, 7]), w = k.param('w', [5, 1, 3, 3]);
  await expectMatchesEvaluator(dev, [k.conv2d(x, w, undefined, { groups: 5, padding: 1 })], { x: randomData(210, 5) }, { params: { w: randomData(45, 6) } });
});

test('a convolution reads an upsampled or padded input inline (no extra kernel)', async () => {
  const x = k.input('x', [1, 3, 5, 4]), w = k.param('w', [4, 3, 3, 3]);
  const y1 = k.conv2d(k.upsampleNearest2x(x), w, undefined, { padding: 1 });
  const y2 = k.conv2d(k.pad(x, [[0, 1], [0, 1]]), w, undefined, { stride: 2 });
  const { stats } = await expectMatchesEvaluator(dev, [y1, y2], { x: randomData(60, 7) }, { params: { w: randomData(108, 8) }, variants: { conv2d: ['naive'] } });
  assert.equal(stats.dispatches, 2);
});
