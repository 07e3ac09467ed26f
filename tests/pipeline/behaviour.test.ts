// What a user relies on: the same seed gives the same image; a guidance schedule runs exactly the model
// evaluations its plan counts; batches; clear errors for bad settings before anything runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GenerateOptionsError, loadPipeline, substituteEos } from '../../models/pipeline/index.js';
import { openTestDevice } from '../support/gpu.js';
import { assembleTinyPipeline } from '../support/tiny-pipeline.js';

const device = await openTestDevice();
const pipe = await loadPipeline(assembleTinyPipeline(), { device, autotune: false });

test('the same seed gives the same image twice; another seed a different one', async () => {
  const a = await pipe.generate({ prompt: 'a red circle', steps: 3, seed: 5 });
  const b = await pipe.generate({ prompt: 'a red circle', steps: 3, seed: 5 });
  const c = await pipe.generate({ prompt: 'a red circle', steps: 3, seed: 6 });
  assert.deepEqual(a.images[0].data, b.images[0].data);
  assert.notDeepEqual(a.images[0].data, c.images[0].data);
  assert.equal(a.images[0].width, 32);
  assert.equal(a.images[0].data.length, 32 * 32 * 3);
});

test('dropping the conditional branch from step a runs exactly the counted UNet evaluations and batch sizes', async () => {
  const steps = 6, a = 2;
  const r = await pipe.generate({ prompt: 'a red circle', steps, seed: 1, guidance: `cfg:7.5,drop@${a}:uncond` });
  const batches = r.evaluations.map((e) => e.batch);
  assert.deepEqual(batches, [...Array(a).fill(2), ...Array(steps - a).fill(1)]);
  assert.equal(batches.reduce((x, y) => x + y, 0), r.plan.modelEvaluations.total);
  assert.deepEqual(r.evaluations.slice(a).map((e) => e.branches), Array(steps - a).fill(['uncond']));
  assert.ok(Math.abs(r.plan.modelEvaluations.savedFraction - (steps - a) / (2 * steps)) < 1e-12);
});

test('a batch of images shares the prompt but not the noise', async () => {
  const r = await pipe.generate({ prompt: 'a red circle', steps: 2, seed: 3, batch: 2 });
  assert.equal(r.images.length, 2);
  assert.notDeepEqual(r.images[0].data, r.images[1].data);
  const single = await pipe.generate({ prompt: 'a red circle', steps: 2, seed: 3 });
  assert.deepEqual(r.images[0].data.length, single.images[0].data.length);
});

test('bad settings fail with a clear message before sampling', async () => {
  await assert.rejects(pipe.generate({ prompt: 'x', width: 100 }), (e: Error) => e instanceof GenerateOptionsError && /width must be a positive multiple of 8.*found 100/.test(e.message));
  await assert.rejects(pipe.generate({ prompt: 'x', batch: 0 }), /batch must be a positive integer, found 0/);
  await assert.rejects(pipe.generate({ prompt: 'x', steps: 4, guidance: 'cfg:7.5,cond:other' }), /conditioning 'other', which is not defined/);
  await assert.rejects(pipe.generate({ prompt: 'x', steps: 4, guidance: 'cfg:7.5,drop@9:uncond' }), /step 9|past|beyond|only 4/);
  await assert.rejects(pipe.generate({ prompt: 'x', steps: 2, sampler: 'nope' }), /unknown sampler 'nope'/);
});

test('named conditionings and [EOS] substitution reach the UNet', async () => {
  const base = { prompt: 'a red circle', steps: 2, seed: 9, guidance: 'none,cond:other' };
  const other = await pipe.generate({ ...base, conditionings: { other: 'a blue square' } });
  const same = await pipe.generate({ ...base, conditionings: { other: 'a red circle' } });
  const plain = await pipe.generate({ ...base, guidance: 'none' });
  assert.deepEqual(same.images[0].data, plain.images[0].data);
  assert.notDeepEqual(other.images[0].data, plain.images[0].data);
  const swapped = await pipe.generate({ ...base, conditionings: { other: { prompt: 'a red circle', eosFrom: 'a blue square' } } });
  assert.notDeepEqual(swapped.images[0].data, plain.images[0].data);
});

test('[EOS] substitution keeps A up to its end token and takes B\'s end-token embeddings after it', () => {
  const w = 2, tokens = 6;
  const a = { data: Float32Array.from({ length: tokens * w }, (_, i) => 100 + i), eosIndex: 2 };
  const b = { data: Float32Array.from({ length: tokens * w }, (_, i) => 200 + i), eosIndex: 4 };
  const s = substituteEos(a, b, tokens, w);
  assert.deepEqual([...s], [100, 101, 102, 103, 208, 209, 210, 211, 210, 211, 210, 211]);
});
