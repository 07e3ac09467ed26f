// Fused attention matches the evaluator (with and without mask and scale, broadcast batches, odd lengths),
// never materialises the N×N probabilities unless they are captured, and then captures the right ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import { ATTENTION_VARIANTS } from '../../compiler/kernels/attention.js';
import { compile } from '../../runtime/compile.js';
import { F32_TOL, assertClose, emptyCache, expectMatchesEvaluator, gpuProperty, numelOf, openTestDevice, randomData, seedArb } from '../support/gpu.js';

const dev = await openTestDevice();

test('attention with optional mask and scale, broadcast batch dims and odd lengths, plus a residual epilogue', async () => {
  const arb = fc.record({
    bq: fc.constantFrom([2, 3], [1], [] as number[], [2, 1]),
    kvBroadcast: fc.boolean(),
    nq: fc.constantFrom(1, 2, 17, 65),
    nk: fc.constantFrom(1, 3, 17, 129),
    d: fc.constantFrom(1, 3, 8, 17),
    dv: fc.constantFrom(1, 5, 16),
    mask: fc.constantFrom('none', 'full', 'keys'),
    scale: fc.constantFrom(undefined, 0.05, 1.5),
    seed: seedArb,
    variant: fc.constantFrom(...ATTENTION_VARIANTS),
  });
  await gpuProperty(arb, async ({ bq, kvBroadcast, nq, nk, d, dv, mask, scale, seed, variant }) => {
    const bkv = kvBroadcast ? bq.map(() => 1) : bq;
    const q = k.input('q', [...bq, nq, d]), kk = k.input('k', [...bkv, nk, d]), v = k.input('v', [...bkv, nk, dv]);
    const feeds: Record<string, Float32Array> = {
      q: randomData(numelOf(q.shape as number[]), seed, -2, 2), k: randomData(numelOf(kk.shape as number[]), seed + 1, -2, 2),
      v: randomData(numelOf(v.shape as number[]), seed + 2),
    };
    let m: k.Tensor | undefined;
    if (mask !== 'none') {
      const ms = mask === 'full' ? [nq, nk] : [1, nk];
      m = k.input('mask', ms);
      // A causal-looking additive mask: 0 or -1e4 (every row keeps its first key, so no row is fully masked).
      feeds.mask = Float32Array.from({ length: numelOf(ms) }, (_, i) => (i % nk !== 0 && (i * 7 + seed) % 3 === 0 ? -1e4 : 0));
    }
    const a = k.attention(q, kk, v, { mask: m, scale });
    const res = k.input('res', a.shape);
    feeds.res = randomData(numelOf(a.shape as number[]), seed + 3);
    const { stats } = await expectMatchesEvaluator(dev, [k.add(a, res)], feeds, { variants: { attention: [variant] } });
    assert.equal(stats.dispatches, 1, 'attention and its residual add are one kernel');
    assert.equal(stats.kernels[0].variant, variant);
  }, 8);
});

// B·H = 8 heads of N = 256 tokens, head dim 16: the probabilities would be 8·256·256 floats = 2 MiB.
const BH = 8, N = 256, D = 16;
const probsBytes = BH * N * N * 4;
const q = k.input('q', [2, 4, N, D]), kk = k.input('k', [2, 4, N, D]), v = k.input('v', [2, 4, N, D]);
const feeds = { q: randomData(BH * N * D, 1, -1.5, 1.5), k: randomData(BH * N * D, 2, -1.5, 1.5), v: randomData(BH * N * D, 3) };

test('attention over 8 heads × 256 tokens never allocates a buffer for the 256×256 probabilities', async () => {
  const a = k.attention(q, kk, v, { probsName: 'probs' });
  const { stats } = await expectMatchesEvaluator(dev, [a], feeds);
  assert.equal(stats.dispatches, 1);
  assert.ok(stats.largestBufferBytes < probsBytes, `largest buffer ${stats.largestBufferBytes} B ≥ ${probsBytes} B`);
  assert.equal(stats.largestBufferBytes, BH * N * D * 4, 'the largest buffers are q, k, v and the output');
});

test('capturing the probabilities materialises them, and the capture equals the softmax probabilities of the evaluator', async () => {
  const scale = 0.3;
  const mask = k.input('mask', [N, N]);
  const causal = Float32Array.from({ length: N * N }, (_, i) => (i % N > Math.floor(i / N) ? -1e4 : 0));
  const a = k.attention(q, kk, v, { probsName: 'probs', scale, mask });
  const exe = await compile(dev, [a], { autotune: false, cache: emptyCache(), captures: ['probs'] });
  try {
    assert.ok(exe.stats.largestBufferBytes >= probsBytes, `largest buffer ${exe.stats.largestBufferBytes} B < ${probsBytes} B`);
    const { outputs, captures } = await exe.run({ ...feeds, mask: causal });
    const all = { ...feeds, mask: causal };
    const [out, probs] = k.evaluate([a, k.attentionProbs(q, kk, scale, mask)], all);
    assertClose(outputs[0], out, F32_TOL, 'attention output');
    const got = captures.get('probs')!;
    assert.equal(got.length, BH * N * N);
    assertClose(got, probs, F32_TOL, 'captured probabilities');
    // Rows sum to one; the causal mask zeroes the upper triangle.
    let rowSum = 0;
    for (let j = 0; j < N; j++) rowSum += got[5 * N + j];
    assert.ok(Math.abs(rowSum - 1) < 1e-5);
    assert.ok(got[3 * N + 4] < 1e-30);
  } finally {
    exe.destroy();
  }
});
