import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { convertIndexedToRgb, decode as decodePngBytes } from 'fast-png';
import { KilnError } from '../dsl/errors.js';
import { readJsonConfig } from '../runtime/config/index.js';
import { Device } from '../runtime/device.js';
import { type Image, savePng } from '../runtime/image.js';
import { formatPlan } from '../samplers/index.js';
import { DEFAULT_MODEL, SAMPLER_NAMES, loadPipeline, resolveModelPath, rowsFor } from '../models/pipeline/index.js';
import { type ConditioningSource } from '../models/pipeline/conditioning.js';
import { plan as buildPlan, parseGuidance } from '../samplers/index.js';
import { progress } from './progress.js';
import { join } from 'node:path';

/** A usage problem: reported as one line, exit code 2. */
class UsageError extends KilnError {}

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, found '${v}'`);
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];
const strengthArg = (v: string) => {
  const n = Number(v);
  if (!(v.trim() !== '' && n > 0 && n <= 1)) throw new InvalidArgumentError(`--strength must be a number in (0, 1], found '${v}'`);
  return n;
};

/**
 * A PNG as the pipeline's start image: RGB, alpha dropped (PIL's convert('RGB'), as diffusers' load_image), grey
 * replicated, palettes expanded; 8-bit as an Image, 16-bit as floats in [0, 1].
 */
function readPng(file: string): Image | { width: number; height: number; rgb: Float32Array } {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`--image: file '${file}' does not exist`);
  let png: ReturnType<typeof decodePngBytes>;
  try {
    png = decodePngBytes(readFileSync(file));
  } catch (e) {
    throw new UsageError(`--image: '${file}' is not a PNG kiln can read (${(e as Error).message})`);
  }
  const { width, height } = png;
  const data = png.palette ? convertIndexedToRgb(png) : png.data;
  const channels = data.length / (width * height);
  if (![1, 2, 3, 4].includes(channels)) throw new UsageError(`--image: '${file}' has ${channels} values per pixel; expected grey, grey+alpha, RGB or RGBA`);
  const colour = channels >= 3;
  const at = (p: number, c: number) => data[p * channels + (colour ? c : 0)];
  if (png.depth === 8 || png.palette) {
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = at(p, c);
    return { width, height, channels: 3, data: rgb };
  }
  const max = 2 ** png.depth - 1;
  const rgb = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = at(p, c) / max;
  return { width, height, rgb };
}

function samplerOption() {
  return new Option('--sampler <name>', 'sampler').choices(SAMPLER_NAMES as string[]).default('dpmpp-2m');
}

function conditionings(defs: string[], eos: string[]): Record<string, ConditioningSource> {
  const out: Record<string, ConditioningSource> = {};
  for (const d of defs) {
    const i = d.indexOf('=');
    if (i < 1) throw new UsageError(`--cond expects NAME=TEXT, found '${d}'`);
    out[d.slice(0, i)] = d.slice(i + 1);
  }
  for (const d of eos) {
    const m = /^([^=]+)=([^:]+):(.+)$/.exec(d);
    if (!m) throw new UsageError(`--eos-from expects NAME=A:B (prompt names), found '${d}'`);
    const [, name, a, b] = m;
    const text = (n: string) => {
      const v = out[n];
      if (typeof v !== 'string') throw new UsageError(`--eos-from ${name}: '${n}' is not a prompt defined with --cond`);
      return v;
    };
    out[name] = { prompt: text(a), eosFrom: text(b) };
  }
  return out;
}

function checkOut(out: string): string {
  const p = resolve(out);
  if (extname(p).toLowerCase() !== '.png') throw new UsageError(`--out must name a .png file, found '${out}'`);
  if (!existsSync(dirname(p)) || !statSync(dirname(p)).isDirectory()) throw new UsageError(`--out: folder '${dirname(p)}' does not exist`);
  return p;
}

const program = new Command('kiln')
  .description('Text-to-image diffusion on WebGPU (Dawn): generate images, inspect sampling plans.')
  .option('--verbose', 'print stack traces and Dawn\'s own messages');

program
  .command('generate')
  .description('generate an image from a prompt')
  .requiredOption('--prompt <text>', 'what to draw')
  .option('--negative <text>', 'negative prompt (the unconditional branch)', '')
  .option('--steps <n>', 'sampling steps', int('--steps', 1), 25)
  .addOption(samplerOption())
  .option('--guidance <spec>', "guidance: a CFG scale or a spec like 'cfg:7.5,drop@20:uncond'", '7.5')
  .option('--seed <n>', 'random seed (PyTorch-compatible)', int('--seed', 0))
  .option('--width <px>', 'image width', int('--width', 1))
  .option('--height <px>', 'image height', int('--height', 1))
  .option('--batch <n>', 'images per run', int('--batch', 1), 1)
  .option('--image <file>', 'image-to-image: start from this PNG (its size is the output size)')
  .option('--strength <s>', 'image-to-image: how much of the schedule to run, in (0, 1] (default 0.8)', strengthArg)
  .option('--model <path>', 'pipeline folder, .safetensors checkpoint, or a built-in name', DEFAULT_MODEL)
  .option('--config <dir>', 'for a single-file checkpoint: pipeline folder with configs and tokenizer')
  .option('--cond <name=text>', 'define a named conditioning the guidance spec can use (repeatable)', collect, [])
  .option('--eos-from <name=a:b>', "conditioning 'name' = prompt a with prompt b's [EOS] embeddings (repeatable)", collect, [])
  .option('--fp16', 'load the .fp16 weight files of a diffusers folder when present')
  .option('--autotune', 'measure kernel variants on this adapter for shapes not tuned before (slow once, cached on disk)')
  .option('--out <file>', 'output PNG (batch > 1 adds -1, -2, … before .png)', 'kiln.png')
  .action(async (o) => {
    const out = checkOut(o.out);
    const guidance = /^[0-9.]+$/.test(o.guidance) ? Number(o.guidance) : parseGuidance(o.guidance);
    if (o.strength !== undefined && o.image === undefined) throw new UsageError('--strength is for image-to-image: pass --image too');
    const start = o.image !== undefined ? readPng(o.image) : undefined;
    const image = start && 'rgb' in start ? start.rgb : start;
    const device = await Device.open();
    try {
      const t0 = performance.now();
      const pipe = await loadPipeline(o.model, { device, configFrom: o.config, preferFp16: o.fp16, autotune: o.autotune, warn: (m) => console.warn(`warning: ${m}`) });
      const bar = progress('sampling');
      const r = await pipe.generate({
        prompt: o.prompt, negativePrompt: o.negative, steps: o.steps, sampler: o.sampler, guidance, seed: o.seed,
        width: o.width ?? start?.width, height: o.height ?? start?.height, batch: o.batch, conditionings: conditionings(o.cond, o.eosFrom),
        ...(image ? { image, strength: o.strength } : {}),
        onStep: (s) => bar.update(s.row + 1, s.rows),
      });
      bar.stop();
      const files = r.images.map((_, i) => (r.images.length === 1 ? out : out.replace(/\.png$/i, `-${i + 1}.png`)));
      r.images.forEach((img, i) => savePng(files[i], img, { parameters: JSON.stringify({ ...r.parameters, index: String(i) }) }));
      const e = r.plan.modelEvaluations;
      console.log(`wrote ${files.join(', ')} (${r.images[0].width}×${r.images[0].height}, seed ${r.seed}, ${e.total} UNet evaluations, ` +
        `${((performance.now() - t0) / 1000).toFixed(2)} s: load+compile ${(r.timings.compileMs / 1000).toFixed(2)} s, sampling ${(r.timings.denoiseMs / 1000).toFixed(2)} s)`);
      pipe.destroy();
    } finally {
      device.destroy();
    }
  });

program
  .command('plan')
  .description('print the sampling plan and the compute its guidance saves, without running a model')
  .option('--steps <n>', 'sampling steps', int('--steps', 1), 25)
  .addOption(samplerOption())
  .option('--guidance <spec>', 'guidance spec', '7.5')
  .option('--strength <s>', 'image-to-image: the part of the schedule to run, in (0, 1]', strengthArg)
  .option('--model <path>', 'whose scheduler config to use', DEFAULT_MODEL)
  .option('--json', 'print the plan as JSON')
  .action(async (o) => {
    const guidance = /^[0-9.]+$/.test(o.guidance) ? parseGuidance(`cfg:${o.guidance}`) : parseGuidance(o.guidance);
    const path = resolveModelPath(o.model);
    const root = statSync(path).isDirectory() ? path : dirname(path);
    const scheduler = (await readJsonConfig(join(root, 'scheduler', 'scheduler_config.json'))) as Record<string, unknown>;
    const p = buildPlan(rowsFor(scheduler, o.sampler, o.steps, o.strength !== undefined ? { strength: o.strength } : {}), guidance);
    console.log(o.json ? JSON.stringify(p, null, 1) : formatPlan(p));
  });

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as Error;
    if (err && (err as { code?: string }).code?.startsWith('commander.')) return (err as { exitCode?: number }).exitCode ?? 2;
    console.error(`kiln: ${err instanceof KilnError ? `${err.name}: ` : ''}${err?.message ?? String(e)}`.split('\n').slice(0, verbose ? undefined : 12).join('\n'));
    if (verbose) console.error(err?.stack);
    return err instanceof UsageError ? 2 : 1;
  }
}

program.exitOverride();
