/**
 * Quality of the shipped default model, measured from the pixels through kiln's own pipeline: ≥ 200 generations
 * over the held-out colour × shape × position combinations of tools/train/dataset-spec.json (never seen together
 * in training), each analysed for dominant colour, position region and shape class. Writes the accuracies as JSON
 * and a PNG sheet of the first images.
 *
 * The protocol is tools/train/evaluate.py's, prompt for prompt and seed for seed: pass k over the held-out
 * combinations, sizes cycling small/medium/large, the canonical phrase of each position, generation i with its
 * own seed 1000 + i. So the PyTorch-side figures in the model card are over the same 200 images (kiln and the
 * training tool's model agree to ~1e-6, tests/shapes/crosscheck.test.ts).
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

const spec = loadShapesSpec();
const heldOut = spec.held_out;
const sizes = spec.sizes.map((s) => s.name);
const phrase = (position: string) => spec.positions.regions.find((r) => r.name === position)!.phrases[0];
const cases = Array.from({ length: N }, (_, i) => {
  const [colour, shape, position] = heldOut[i % heldOut.length];
  const size = sizes[(Math.floor(i / heldOut.length) + i) % sizes.length]; // evaluate.py's (k + len(out)) % 3
  return { colour, shape, position, prompt: `a ${size} ${colour} ${shape} ${phrase(position)}`, seed: 1000 + i };
});

const dev = await Device.open();
const pipe = await loadPipeline(model, { device: dev });
const hits = { colour: 0, position: 0, shape: 0, all: 0 };
const chance = { colour: 1 / spec.colours.length, position: 1 / spec.positions.regions.length, shape: 1 / spec.shapes.length };
const misses: Record<string, number> = {};
const sheet: Image[] = [];
const t0 = performance.now();
let done = 0;
for (const c of cases) {
  const r = await pipe.generate({ prompt: c.prompt, steps, sampler: 'dpmpp-2m', guidance, seed: c.seed });
  const img = r.images[0];
  const a = analyzeShapes(img.data, img.width, img.height, spec);
  const ok = { colour: a.colour === c.colour, position: a.position === c.position, shape: a.shape === c.shape };
  hits.colour += +ok.colour; hits.position += +ok.position; hits.shape += +ok.shape; hits.all += +(ok.colour && ok.position && ok.shape);
  if (!ok.colour) misses[`${c.colour}→${a.colour}`] = (misses[`${c.colour}→${a.colour}`] ?? 0) + 1;
  if (sheet.length < 60) sheet.push(img);
  if (++done % 20 === 0 || done === N)
    console.log(`${done}/${N} generations, ${((performance.now() - t0) / done).toFixed(0)} ms each — colour ${(hits.colour / done).toFixed(3)}, position ${(hits.position / done).toFixed(3)}, shape ${(hits.shape / done).toFixed(3)}`);
}
const sheetPath = join(resultsDir, 'default-model-heldout.png');
savePng(sheetPath, imageGrid(sheet, 20));
report('default-model', dev.description, [
  { measure: 'colour', accuracy: hits.colour / done, chance: chance.colour },
  { measure: 'position', accuracy: hits.position / done, chance: chance.position },
  { measure: 'shape', accuracy: hits.shape / done, chance: chance.shape },
  { measure: 'all three', accuracy: hits.all / done, chance: chance.colour * chance.position * chance.shape },
], { model, generations: done, steps, sampler: 'dpmpp-2m', guidance, heldOutCombinations: heldOut.length, protocol: 'tools/train/evaluate.py (sizes cycling, seed 1000 + i)', colourMisses: misses, sheet: sheetPath, msPerImage: (performance.now() - t0) / done });
pipe.destroy();
dev.destroy();
