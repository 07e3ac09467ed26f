// The shipped default model (pretrained/kiln-shapes) draws what the prompt says: a handful of fixed-seed
// generations through kiln's pipeline, checked from the pixels for the object's colour and position.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../../models/pipeline/index.js';
import { analyzeShapes, loadShapesSpec } from '../support/shapes-analysis.js';
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

test('the default model generates 64×64 images whose object has the prompt\'s colour and position (25 DPM-Solver++ steps, CFG 7.5)', async () => {
  const wrong: string[] = [];
  for (const [i, c] of cases.entries()) {
    const r = await pipe.generate({ prompt: c.prompt, steps: 25, sampler: 'dpmpp-2m', guidance: 7.5, seed: 100 + i });
    const img = r.images[0];
    assert.equal(img.width, 64);
    const a = analyzeShapes(img.data, img.width, img.height, spec);
    if (a.colour !== c.colour || a.position !== c.position) wrong.push(`'${c.prompt}' (seed ${100 + i}) → ${a.colour} at ${a.position}`);
  }
  assert.deepEqual(wrong, []);
});
