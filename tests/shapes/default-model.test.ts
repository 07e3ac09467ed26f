// The shipped default model (pretrained/kiln-shapes) draws what the prompt says: a handful of fixed-seed
// generations through kiln's pipeline, checked from the pixels. Colour is learned; position is not yet (the
// model card explains), so the position check is a `todo` that reports until a retrained model passes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../../models/pipeline/index.js';
import { type ShapesAnalysis, analyzeShapes, loadShapesSpec } from '../support/shapes-analysis.js';
import { openTestDevice } from '../support/gpu.js';

const device = await openTestDevice();
const pipe = await loadPipeline('kiln-shapes', { device });
const spec = loadShapesSpec();

const cases: { prompt: string; colour: string; position: string }[] = [
  { prompt: 'a large red circle at the top left', colour: 'red', position: 'top left' },
  { prompt: 'a large blue square at the bottom right', colour: 'blue', position: 'bottom right' },
  { prompt: 'a large yellow star in the center', colour: 'yellow', position: 'center' },
  { prompt: 'a large green triangle at the top right', colour: 'green', position: 'top right' },
];

const results: { prompt: string; seed: number; want: (typeof cases)[number]; got: ShapesAnalysis }[] = [];
for (const [i, c] of cases.entries()) {
  const r = await pipe.generate({ prompt: c.prompt, steps: 25, sampler: 'dpmpp-2m', guidance: 7.5, seed: 100 + i });
  assert.equal(r.images[0].width, 64);
  results.push({ prompt: c.prompt, seed: 100 + i, want: c, got: analyzeShapes(r.images[0].data, 64, 64, spec) });
}
const misses = (key: 'colour' | 'position') =>
  results.filter((r) => r.got[key] !== r.want[key]).map((r) => `'${r.prompt}' (seed ${r.seed}) → ${r.got.colour} at ${r.got.position}`);

test('the default model draws the prompt\'s colour (64×64, 25 DPM-Solver++ steps, CFG 7.5, fixed seeds)', () => {
  assert.deepEqual(misses('colour'), []);
});

test('the default model places the object where the prompt says', { todo: 'kiln-shapes v1 ignores position words (pretrained/kiln-shapes/README.md)' }, () => {
  assert.deepEqual(misses('position'), []);
});
