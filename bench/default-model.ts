/**
 * Quality of the shipped default model, measured from the pixels through kiln's own pipeline: ≥ 200 generations
 * over the held-out colour × shape × position combinations of tools/train/dataset-spec.json (never seen together
 * in training), each analysed for dominant colour, position region and shape class. Writes the accuracies as JSON
 * and a PNG sheet of the first images.
 *
 *   npx tsx bench/default-model.ts [--n 200] [--steps 25] [--guidance 7.5] [--model kiln-shapes]
 */
import { join } from 'node:path';
import { loadPipeline } from '../models/pipeline/index.js';
import { Device } from '../runtime/device.js';
import { type Image, imageGrid, savePng } from '../runtime/image.js';
import { analyzeShapes, loadShapesSpec } from '../tests/support/shapes-analysis.js';
import { report, resultsDir } from './report.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const N = Number(arg('--n', '200')), steps = Number(arg('--steps', '25')), guidance = Number(arg('--guidance', '7.5'));
const model = arg('--model', 'kiln-shapes');
const BATCH = 8;

const spec = loadShapesSpec();
const heldOut = (spec as unknown as { held_out: [string, string, string][] }).held_out;
const sizes = ['small', 'large'];

const dev = await Device.open();
const pipe = await loadPipeline(model, { device: dev });
const hits = { colour: 0, position: 0, shape: 0, all: 0 };
const chance = { colour: 1 / spec.colours.length, position: 1 / spec.positions.regions.length, shape: 1 / spec.shapes.length };
const sheet: Image[] = [];
const t0 = performance.now();
let done = 0;
for (let start = 0; start < N; start += BATCH) {
  // One prompt per batch call; the batch's images differ in noise only.
  const [colour, shape, position] = heldOut[(start / BATCH) % heldOut.length];
  const size = sizes[Math.floor(start / BATCH / heldOut.length) % sizes.length];
  const prompt = `a ${size} ${colour} ${shape} ${position === 'center' ? 'in the center' : `at the ${position}`}`;
  const r = await pipe.generate({ prompt, steps, sampler: 'dpmpp-2m', guidance, seed: 1000 + start, batch: Math.min(BATCH, N - start) });
  for (const img of r.images) {
    const a = analyzeShapes(img.data, img.width, img.height, spec);
    const ok = { colour: a.colour === colour, position: a.position === position, shape: a.shape === shape };
    hits.colour += +ok.colour; hits.position += +ok.position; hits.shape += +ok.shape; hits.all += +(ok.colour && ok.position && ok.shape);
    if (sheet.length < 64) sheet.push(img);
    done++;
  }
  console.log(`${done}/${N} generations, ${((performance.now() - t0) / done).toFixed(0)} ms each — colour ${(hits.colour / done).toFixed(3)}, position ${(hits.position / done).toFixed(3)}, shape ${(hits.shape / done).toFixed(3)}`);
}
const sheetPath = join(resultsDir, 'default-model-heldout.png');
savePng(sheetPath, imageGrid(sheet, 8));
report('default-model', dev.description, [
  { measure: 'colour', accuracy: hits.colour / done, chance: chance.colour },
  { measure: 'position', accuracy: hits.position / done, chance: chance.position },
  { measure: 'shape', accuracy: hits.shape / done, chance: chance.shape },
  { measure: 'all three', accuracy: hits.all / done, chance: chance.colour * chance.position * chance.shape },
], { model, generations: done, steps, sampler: 'dpmpp-2m', guidance, heldOutCombinations: heldOut.length, sheet: sheetPath, msPerImage: (performance.now() - t0) / done });
pipe.destroy();
dev.destroy();
