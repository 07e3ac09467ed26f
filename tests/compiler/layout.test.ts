// Data-movement ops (reshape, permute, slice, concat, pad, expand, upsample, gather) move the same elements
// on the device as in the evaluator, whether materialized, inlined into arithmetic, or read by a heavy kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as k from '../../dsl/index.js';
import { broadcastOperandArb, expectMatchesEvaluator, gpuProperty, idsData, numelOf, openTestDevice, randomData, seedArb, shapeArb } from '../support/gpu.js';

const dev = await openTestDevice();

/** A shape and a permutation of its axes. */
const permArb = shapeArb({ minRank: 1, maxRank: 4, maxNumel: 1200 }).chain((shape) =>
  fc.record({ shape: fc.constant(shape), perm: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }), seed: seedArb }));

test('permute and transpose, materialized and inlined into arithmetic', async () => {
  await gpuProperty(permArb, async ({ shape, perm, seed }) => {
    const x = k.input('x', shape);
    const p = k.permute(x, perm);
    const outs = [p, k.mul(k.exp(k.permute(k.sin(x), perm)), 0.5)];
    if (shape.length >= 2) outs.push(k.transpose(k.add(x, 1), 0, -1));
    await expectMatchesEvaluator(dev, outs, { x: randomData(numelOf(shape), seed) });
  }, 6);
});

test('a permute of a permute composes into one permutation', () => {
  const x = k.input('x', [2, 3, 5]);
  const y = k.permute(k.permute(x, [2, 0, 1]), [1, 2, 0]);
  assert.equal(y, x);
});

test('slice with steps and negative starts, on one axis or chained over two', async () => {
  const arb = shapeArb({ minRank: 1, maxRank: 3, maxNumel: 1500 }).chain((shape) => fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: 0, max: shape.length - 1 }),
    axis2: fc.integer({ min: 0, max: shape.length - 1 }),
    start: fc.integer({ min: -5, max: 4 }),
    len: fc.integer({ min: 1, max: 130 }),
    step: fc.integer({ min: 1, max: 3 }),
    step2: fc.integer({ min: 1, max: 4 }),
    seed: seedArb,
  }));
  await gpuProperty(arb, async ({ shape, axis, axis2, start, len, step, step2, seed }) => {
    const x = k.input('x', shape);
    const n = shape[axis];
    const s = Math.min(Math.max(start < 0 ? start + n : start, 0), n - 1); // keep the slice non-empty
    const a = k.slice(x, axis, s, s + len, step);
    const b = k.slice(a, axis2, axis2 === axis ? 0 : 1 % shape[axis2], undefined, step2);
    await expectMatchesEvaluator(dev, [a, k.square(b)], { x: randomData(numelOf(shape), seed) });
  }, 8);
});

test('concat of two or three tensors along any axis, each part possibly computed', async () => {
  const arb = shapeArb({ minRank: 1, maxRank: 3, maxNumel: 600 }).chain((shape) => fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: 0, max: shape.length - 1 }),
    sizes: fc.array(fc.constantFrom(1, 2, 3, 17), { minLength: 2, maxLength: 3 }),
    seed: seedArb,
  }));
  await gpuProperty(arb, async ({ shape, axis, sizes, seed }) => {
    const parts = sizes.map((d, i) => k.input(`x${i}`, shape.map((e, a) => (a === axis ? d : e))));
    const feeds = Object.fromEntries(parts.map((p, i) => [`x${i}`, randomData(numelOf(p.shape as number[]), seed + i)]));
    const y = k.concat(parts, axis);
    const z = k.concat(parts.map((p, i) => (i % 2 ? k.neg(p) : k.exp(p))), axis - shape.length);
    await expectMatchesEvaluator(dev, [y, k.add(z, 1)], feeds);
  }, 6);
});

test('pad with any before/after per axis and any fill value', async () => {
  const arb = shapeArb({ minRank: 1, maxRank: 4, maxNumel: 800 }).chain((shape) => fc.record({
    shape: fc.constant(shape),
    pads: fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: shape.length }),
    value: fc.constantFrom(0, -1.5, 7),
    seed: seedArb,
  }));
  await gpuProperty(arb, async ({ shape, pads, value, seed }) => {
    const x = k.input('x', shape);
    const p = k.pad(x, pads, value);
    await expectMatchesEvaluator(dev, [p, k.mul(k.pad(k.tanh(x), pads, value), 3)], { x: randomData(numelOf(shape), seed, 0.5, 2) });
  }, 6);
});

test('expand stretches size-1 dims and adds leading dims', async () => {
  const arb = shapeArb({ minRank: 1, maxRank: 4, maxNumel: 1500 }).chain((out) =>
    fc.record({ out: fc.constant(out), from: broadcastOperandArb(out), seed: seedArb }));
  await gpuProperty(arb, async ({ out, from, seed }) => {
    const x = k.input('x', from);
    await expectMatchesEvaluator(dev, [k.expand(x, out), k.sub(k.expand(k.exp(x), out), 1)], { x: randomData(numelOf(from), seed) });
  }, 5);
});

test('upsampleNearest2x repeats each pixel 2×2 on the last two axes', async () => {
  await gpuProperty(fc.record({ shape: shapeArb({ minRank: 2, maxRank: 4, maxNumel: 400 }), seed: seedArb }), async ({ shape, seed }) => {
    const x = k.input('x', shape);
    await expectMatchesEvaluator(dev, [k.upsampleNearest2x(x), k.upsampleNearest2x(k.silu(x))], { x: randomData(numelOf(shape), seed) });
  }, 5);
});

test('reshape of inputs, of inlined arithmetic and of a materialized matmul result', async () => {
  await gpuProperty(fc.record({ shape: shapeArb({ minRank: 2, maxRank: 4, maxNumel: 1200 }), seed: seedArb }), async ({ shape, seed }) => {
    const x = k.input('x', shape);
    const rev = [...shape].reverse();
    const merged = [shape[0] * shape[1], ...shape.slice(2)];
    const m = k.matmul(x, k.input('w', [shape[shape.length - 1], 3]));
    const outs = [k.reshape(x, rev), k.reshape(k.cos(x), [-1]), k.add(k.reshape(k.exp(x), merged), 1), k.mul(k.reshape(m, [-1, 3]), 2)];
    await expectMatchesEvaluator(dev, outs, { x: randomData(numelOf(shape), seed), w: randomData(shape[shape.length - 1] * 3, seed + 1) });
  }, 4);
});

test('gather reads rows by i32 id; ids out of range (negative or ≥ V) read 0', async () => {
  const arb = fc.record({
    ids: shapeArb({ minRank: 1, maxRank: 2, maxNumel: 200 }),
    vocab: fc.constantFrom(1, 3, 17, 65),
    dim: fc.constantFrom(1, 5, 17),
    seed: seedArb,
  });
  await gpuProperty(arb, async ({ ids, vocab, dim, seed }) => {
    const table = k.param('table', [vocab, dim]);
    const id = k.input('ids', ids, 'i32');
    const g = k.gather(table, id);
    const outs = [g, k.add(k.gather(k.mul(table, 2), id), 1), k.reshape(id, [-1])];
    await expectMatchesEvaluator(dev, outs, { ids: idsData(numelOf(ids), seed, -2, vocab + 2) }, { params: { table: randomData(vocab * dim, seed + 1) } });
  }, 6);
});

test('a chain of data movement ops feeding a matmul and a reduction is inlined into their loads', async () => {
  const x = k.input('x', [3, 5, 7]);
  const t = k.slice(k.pad(k.permute(x, [0, 2, 1]), [[1, 0], [0, 2]], 0.5), 2, 1, undefined, 2); // [3, 8, 3]
  const y = k.input('y', [3, 9]);
  const outs = [k.matmul(t, y), k.sum(k.upsampleNearest2x(t), [1, 2])];
  const { stats } = await expectMatchesEvaluator(dev, outs, { x: randomData(105, 1), y: randomData(27, 2) });
  assert.equal(stats.dispatches, 2);
});
