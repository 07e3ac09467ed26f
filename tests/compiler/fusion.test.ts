// Fusion and memory planning are asserted, not assumed: dispatch counts of the patterns the kernels exist
// for, buffers that are never allocated, and activation memory reused along a chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k from '../../dsl/index.js';
import { lower } from '../../compiler/lower.js';
import { expectMatchesEvaluator, openTestDevice, randomData, sinData } from '../support/gpu.js';

const dev = await openTestDevice();

test('linear + bias + GELU is one dispatch', async () => {
  const x = k.input('x', [2, 17, 33]), w = k.param('w', [65, 33]), b = k.param('b', [65]);
  const { stats } = await expectMatchesEvaluator(dev, [k.gelu(k.linear(x, w, b))], { x: randomData(2 * 17 * 33, 1) },
    { params: { w: randomData(65 * 33, 2, -0.3, 0.3), b: randomData(65, 3) } });
  assert.equal(stats.dispatches, 1);
  assert.match(stats.kernels[0].label, /^matmul /);
});

test('group norm + SiLU + conv2d is at most two dispatches (norm+SiLU, then the convolution)', async () => {
  const block = k.nn.conv2d(6, 5, 3);
  const norm = k.nn.groupNorm(3, 6);
  const x = k.input('x', [2, 6, 9, 7]);
  const y = k.instantiate(block, 'conv')(k.silu(k.instantiate(norm, 'norm')(x)));
  const params = {
    'norm.weight': randomData(6, 1, 0.5, 1.5), 'norm.bias': randomData(6, 2), 'conv.weight': randomData(5 * 6 * 9, 3), 'conv.bias': randomData(5, 4),
  };
  const { stats } = await expectMatchesEvaluator(dev, [y], { x: randomData(2 * 6 * 63, 5) }, { params });
  assert.ok(stats.dispatches <= 2, `${stats.dispatches} dispatches: ${stats.kernels.map((s) => s.label).join('; ')}`);
});

test('group norm + a broadcast time-embedding add + SiLU (the resnet block pattern) is one kernel', async () => {
  const x = k.input('x', [2, 6, 5, 3]), temb = k.input('temb', [2, 6]);
  const y = k.silu(k.add(k.groupNorm(x, 2), k.reshape(temb, [2, 6, 1, 1])));
  const { stats } = await expectMatchesEvaluator(dev, [y], { x: randomData(180, 1), temb: randomData(12, 2) });
  assert.equal(stats.dispatches, 1);
});

test('a chain of five elementwise ops with broadcasting is one dispatch', async () => {
  const x = k.input('x', [3, 65]), b = k.input('b', [65]);
  const y = k.sigmoid(k.sub(k.mul(k.exp(k.add(x, b)), 0.5), k.sqrt(k.abs(x))));
  const { stats } = await expectMatchesEvaluator(dev, [y], { x: randomData(195, 1), b: sinData(65) });
  assert.equal(stats.dispatches, 1);
});

test('matmul + a transposed residual, layer norm + GELU and a reduction + scale each fuse into one kernel', async () => {
  const x = k.input('x', [5, 17]), w = k.input('w', [17, 17]);
  const outs = [k.add(k.matmul(x, w), k.transpose(k.slice(w, 1, 0, 5))), k.gelu(k.layerNorm(x)), k.mul(k.mean(x, -1, true), 3)];
  const { stats } = await expectMatchesEvaluator(dev, outs, { x: randomData(85, 1), w: randomData(289, 2) });
  assert.equal(stats.dispatches, 3);
});

test('a tag that is not captured costs nothing; a captured one is read back and equals the evaluator', async () => {
  const x = k.input('x', [4, 9]);
  const h = k.tag(k.exp(k.mul(x, 0.5)), 'h');
  const y = k.softmax(h);
  const plain = lower([y]);
  assert.equal(plain.kernels.length, 1, 'tag dropped: exp fuses into the softmax prologue');
  const { exe, stats } = await expectMatchesEvaluator(dev, [y], { x: randomData(36, 3) }, { captures: ['h'], keep: true });
  try {
    assert.equal(stats.dispatches, 2);
    const got = await exe.readCapture('h');
    const [ref] = k.evaluate([h], { x: randomData(36, 3) });
    assert.ok(got.every((v, i) => Math.abs(v - ref[i]) <= 1e-6 * Math.abs(ref[i])));
  } finally {
    exe.destroy();
  }
});

test('an anchor read through a node that two kernels inline (a cast read twice) is computed once and read by both', async () => {
  const a = k.input('a', [5, 17]), b = k.input('b', [17, 9]);
  const c = k.cast(k.matmul(a, b), 'f16');
  // Small integers: the products are exact in float32 and float64, so both round to the same halves.
  const ints = (n: number, seed: number) => randomData(n, seed, -3, 3).map(Math.round);
  const feeds = { a: ints(85, 1), b: ints(153, 2) };
  for (const second of [k.softmax(c), k.sin(c)]) {
    const { stats } = await expectMatchesEvaluator(dev, [k.exp(c), second], feeds);
    assert.equal(stats.dispatches, 3, stats.kernels.map((s) => s.label).join('; '));
  }
});

test('building the same expression twice gives the same node, so it is computed once', () => {
  const x = k.input('x', [3]);
  const a = k.exp(k.add(x, 1)), b = k.exp(k.add(x, 1));
  assert.equal(a, b);
  // Read twice, exp(x + 1) gets one kernel of its own and its product reads it twice.
  const p = lower([k.mul(a, b)]);
  assert.deepEqual(p.kernels.map((kk) => kk.root), [a, k.mul(a, a)]);
});

test('a chain of ten linear layers reuses activation buffers: peak memory stays at a few activations', async () => {
  const D = 64, rows = 17;
  const x = k.input('x', [rows, D]);
  let h: k.Tensor = x;
  const params: Record<string, Float32Array> = {};
  for (let i = 0; i < 10; i++) {
    h = k.gelu(k.linear(h, k.param(`l${i}.weight`, [D, D]), k.param(`l${i}.bias`, [D])));
    params[`l${i}.weight`] = randomData(D * D, 10 + i, -0.25, 0.25);
    params[`l${i}.bias`] = randomData(D, 30 + i, -0.1, 0.1);
  }
  const act = rows * D * 4;
  const { stats } = await expectMatchesEvaluator(dev, [h], { x: randomData(rows * D, 1) }, { params });
  assert.equal(stats.dispatches, 10);
  const sumOfActivations = 11 * act; // input, nine intermediates, output
  // Input and output are dedicated; the nine intermediates ping-pong between two pooled buffers.
  assert.equal(stats.peakBufferBytes, 4 * act, `peak ${stats.peakBufferBytes} B`);
  assert.ok(stats.peakBufferBytes < sumOfActivations / 2);
  assert.equal(stats.weightBytes, 10 * (D * D + D) * 4);
});
