import { KilnError } from '../../dsl/errors.js';
import { type Tensor, add, exp, input, instantiate, maximum, minimum, mul, permute } from '../../dsl/index.js';
import { compile } from '../../runtime/compile.js';
import type { Device } from '../../runtime/device.js';
import type { Executable } from '../../runtime/executable.js';
import { type Image, imageFromUnit } from '../../runtime/image.js';
import { type GuidanceSpec, type Plan, TorchGenerator, addNoise, cfg, parseGuidance, plan as buildPlan } from '../../samplers/index.js';
import { unet2DConditionModel } from '../unet/index.js';
import { autoencoderKL } from '../vae/index.js';
import { type LoadOptions, type PipelineComponents, loadComponents } from './components.js';
import { type ConditioningSource, TextEncoder } from './conditioning.js';
import { DevicePlanExecutor, type StepInfo } from './plan-executor.js';
import { type SamplerName, rowsFor } from './sampler-names.js';

/** Bad generation settings: caught before anything runs. */
export class GenerateOptionsError extends KilnError {}

export interface GenerateOptions {
  prompt: string;
  negativePrompt?: string;
  steps?: number;
  sampler?: SamplerName | string;
  /** A spec value, its compact string form ('cfg:7.5,drop@30:uncond'), or a plain CFG scale. */
  guidance?: GuidanceSpec | string | number;
  seed?: number | bigint;
  width?: number;
  height?: number;
  batch?: number;
  /** Extra named conditionings the guidance spec refers to (beside 'cond' = prompt and 'uncond' = negative prompt). */
  conditionings?: Readonly<Record<string, ConditioningSource>>;
  onStep?: (p: { row: number; rows: number; step: number; steps: number; elapsedMs: number; info: StepInfo }) => void;
  /** The latent after every row, read back from the device (previews, studies, tests). */
  onLatent?: (row: number, latent: Float32Array) => void | Promise<void>;
  /** The decoded images as floats in [0, 1] (HWC, batch-major), before 8-bit rounding. */
  onDecoded?: (rgb: Float32Array) => void;
  /** Use this starting latent instead of seeded noise (already scaled). */
  initialLatent?: Float32Array;
  /**
   * Image-to-image (diffusers' StableDiffusionImg2ImgPipeline): the start image, an 8-bit RGB/RGBA Image
   * (alpha dropped) or RGB floats in [0, 1] (HWC, width·height·3 values). Its size must be the generation's
   * width × height (an Image sets them when they are not given). One image serves the whole batch.
   */
  image?: Image | Float32Array;
  /**
   * How much of the schedule an image-to-image run covers, in (0, 1] (default 0.8, diffusers'): the last
   * min(⌊steps·strength⌋, steps) steps, from the image's latent noised to the first of them. Guidance specs
   * count the steps of that shortened run. Needs `image`.
   */
  strength?: number;
}

export interface GenerateResult {
  images: Image[];
  plan: Plan;
  seed: bigint;
  /**
   * x_T as sampling started: initNoiseSigma · torch.randn(shape) for the seed (or the given initialLatent);
   * for image-to-image, add_noise(imageLatent, ε₂, first timestep) = start.level.alpha · imageLatent + start.level.sigma · ε₂.
   */
  initialLatent: Float32Array;
  /**
   * Image-to-image only: the image's latent [1, C, h, w], (mean + exp(logvar / 2) · ε₁) · scaling_factor, with ε₁ the
   * seed's first draw (diffusers' retrieve_latents, sample mode); ε₂ is the next draw.
   */
  imageLatent?: Float32Array;
  /** UNet batch sizes per row, as executed. */
  evaluations: StepInfo[];
  timings: { encodeMs: number; compileMs: number; denoiseMs: number; decodeMs: number; totalMs: number };
  /** Generation parameters as text (what the CLI stores in the PNG). */
  parameters: Record<string, string>;
}

export interface PipelineOptions extends LoadOptions {
  device: Device;
  autotune?: boolean;
  onCompile?: (message: string) => void;
}

/**
 * Text-to-image: tokenizer → text encoder (each named conditioning once) → plan execution on the device
 * → VAE decode → images. Programs are compiled on first use per image size and kept.
 */
export class Pipeline {
  private readonly executors = new Map<string, DevicePlanExecutor>();
  private readonly decoders = new Map<string, Executable>();
  private readonly encoders = new Map<string, Executable>();

  private constructor(readonly components: PipelineComponents, readonly device: Device, private readonly text: TextEncoder, private readonly o: PipelineOptions) {}

  static async load(pathOrName: string | undefined, o: PipelineOptions): Promise<Pipeline> {
    const c = await loadComponents(pathOrName, o);
    const u = c.unet.config, t = c.text.config;
    if (u.cross_attention_dim.some((d) => d !== t.hidden_size)) {
      throw new GenerateOptionsError(`the UNet's cross_attention_dim [${u.cross_attention_dim.join(', ')}] ≠ the text encoder's hidden_size ${t.hidden_size}`);
    }
    return new Pipeline(c, o.device, await TextEncoder.create(o.device, c, { autotune: o.autotune }), o);
  }

  /** Pixels per latent cell (the VAE's downsampling) and the latent size multiple the UNet needs. */
  get vaeScale(): number {
    return 2 ** (this.components.vae.config.block_out_channels.length - 1);
  }

  get sizeMultiple(): number {
    return Math.max(8, this.vaeScale * 2 ** (this.components.unet.config.block_out_channels.length - 1));
  }

  get defaultSize(): number {
    return this.components.unet.config.sample_size * this.vaeScale;
  }

  /** The plan a generation would run: no model is evaluated. `strength`: an image-to-image run's part of the schedule. */
  plan(o: Pick<GenerateOptions, 'steps' | 'sampler' | 'guidance' | 'strength'>): Plan {
    const run = o.strength !== undefined ? { strength: o.strength } : {};
    return buildPlan(rowsFor(this.components.scheduler, o.sampler ?? 'default', o.steps ?? 25, run), toGuidance(o.guidance));
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    const t0 = performance.now();
    const image = o.image;
    const sized = image !== undefined && !(image instanceof Float32Array) ? image : undefined;
    const width = o.width ?? sized?.width ?? this.defaultSize, height = o.height ?? sized?.height ?? this.defaultSize, batch = o.batch ?? 1;
    const m = this.sizeMultiple;
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < m || v % m !== 0) throw new GenerateOptionsError(`${name} must be a positive multiple of ${m} for this model, found ${v}`);
    }
    if (!Number.isInteger(batch) || batch < 1) throw new GenerateOptionsError(`batch must be a positive integer, found ${batch}`);
    if (image === undefined && o.strength !== undefined) throw new GenerateOptionsError(`strength (${o.strength}) is for image-to-image: pass an image with it`);
    if (image !== undefined && o.initialLatent) throw new GenerateOptionsError('pass either an image (image-to-image) or an initialLatent, not both');
    const strength = image !== undefined ? (o.strength ?? 0.8) : undefined;
    if (strength !== undefined && !(typeof strength === 'number' && strength > 0 && strength <= 1)) {
      throw new GenerateOptionsError(`strength must be a number in (0, 1] (the part of the schedule to run; 1 = all of it), found ${strength}`);
    }
    const pixels = image !== undefined ? imageToNchw(image, width, height) : undefined;
    const plan = this.plan({ ...o, strength });
    const seed = BigInt(o.seed ?? Math.floor(Math.random() * 2 ** 32));
    const L = this.components.vae.config.latent_channels;
    const latentShape = [batch, L, height / this.vaeScale, width / this.vaeScale];

    // Conditionings: every name a row uses, encoded once, repeated for the batch.
    const named: Record<string, ConditioningSource> = { cond: o.prompt, uncond: o.negativePrompt ?? '', ...o.conditionings };
    const needed = [...new Set(plan.rows.flatMap((r) => r.branches))];
    const unknown = needed.filter((n) => !(n in named));
    if (unknown.length) throw new GenerateOptionsError(`the guidance uses conditioning ${unknown.map((n) => `'${n}'`).join(', ')}, which is not defined; pass it in conditionings`);
    const embeddings = new Map<string, Float32Array>();
    for (const n of needed) {
      const e = await this.text.resolve(named[n]);
      const rep = new Float32Array(e.length * batch);
      for (let b = 0; b < batch; b++) rep.set(e, b * e.length);
      embeddings.set(n, rep);
    }
    const t1 = performance.now();

    const exec = await this.executor(latentShape);
    await exec.prepare(plan);
    const decoder = await this.decoder(latentShape, exec.latentBuffer);
    const encoder = pixels ? await this.encoder(height, width) : undefined;
    const t2 = performance.now();

    const gen = new TorchGenerator(seed);
    let initial: Float32Array;
    let imageLatent: Float32Array | undefined;
    if (encoder && pixels) {
      // diffusers' prepare_latents: the image's latent is sampled with the generator's first draw (ε₁, one image's
      // shape), repeated over the batch, and noised with its next draw (ε₂, the batch's shape) to the first timestep.
      const eps1 = gen.randn([1, ...latentShape.slice(1)]);
      imageLatent = (await encoder.run({ image: pixels, eps: eps1 })).outputs[0];
      initial = addNoise(plan.start!.level, imageLatent, gen.randn(latentShape));
    } else {
      initial = gen.randn(latentShape);
      for (let i = 0; i < initial.length; i++) initial[i] *= plan.initNoiseSigma;
    }
    if (o.initialLatent) {
      if (o.initialLatent.length !== initial.length) throw new GenerateOptionsError(`initialLatent has ${o.initialLatent.length} values, the latent [${latentShape.join(', ')}] needs ${initial.length}`);
      initial.set(o.initialLatent);
    }
    const t2b = performance.now();
    const startEval = exec.evaluations.length;
    await exec.execute(plan, {
      conditioning: (n) => embeddings.get(n)!,
      initial,
      noise: () => gen.randn(latentShape),
      onLatent: o.onLatent && ((info, latent) => o.onLatent!(info.row, latent)),
      onRow: (info) => o.onStep?.({ row: info.row, rows: plan.rows.length, step: info.step, steps: plan.steps, elapsedMs: performance.now() - t2b, info }),
    });
    const t3 = performance.now();

    const { outputs } = await decoder.run({});
    o.onDecoded?.(outputs[0]);
    const [, , h, w] = latentShape;
    const px = h * this.vaeScale * w * this.vaeScale * 3;
    const images = Array.from({ length: batch }, (_, b) => imageFromUnit(outputs[0].subarray(b * px, (b + 1) * px), w * this.vaeScale, h * this.vaeScale, 3));
    const t4 = performance.now();
    return {
      images,
      plan,
      seed,
      initialLatent: initial,
      ...(imageLatent ? { imageLatent } : {}),
      evaluations: exec.evaluations.slice(startEval),
      timings: { encodeMs: t1 - t0 + (t2b - t2), compileMs: t2 - t1, denoiseMs: t3 - t2b, decodeMs: t4 - t3, totalMs: t4 - t0 },
      parameters: {
        prompt: o.prompt, negative_prompt: o.negativePrompt ?? '', steps: String(plan.start?.fullSteps ?? plan.steps), sampler: plan.sampler,
        guidance: JSON.stringify(plan.guidance), seed: String(seed), width: String(width), height: String(height),
        ...(plan.start ? { strength: String(plan.start.strength) } : {}),
        model: this.components.root, generator: 'kiln',
      },
    };
  }

  private async executor(latentShape: number[]): Promise<DevicePlanExecutor> {
    const key = latentShape.join('x');
    let e = this.executors.get(key);
    if (!e) {
      const unet = instantiate(unet2DConditionModel(this.components.unet.config));
      e = new DevicePlanExecutor({
        device: this.device,
        model: (x: Tensor, t: Tensor, ctx: Tensor) => unet(x, t, ctx),
        weights: this.components.unet.weights,
        latentShape,
        contextShape: [this.text.tokens, this.text.width],
        autotune: this.o.autotune,
        onCompile: this.o.onCompile,
      });
      this.executors.set(key, e);
    }
    return e;
  }

  /** latent (the executor's buffer, bound directly) → RGB in [0, 1], NHWC, clamped on the device. */
  private async decoder(latentShape: number[], latentBuffer: GPUBuffer): Promise<Executable> {
    const key = latentShape.join('x');
    let d = this.decoders.get(key);
    if (!d) {
      const vae = instantiate(autoencoderKL(this.components.vae.config))();
      const latent = input('latent', latentShape);
      const img = vae.decode(mul(latent, 1 / this.components.vae.config.scaling_factor));
      const rgb = permute(minimum(maximum(add(mul(img, 0.5), 0.5), 0), 1), [0, 2, 3, 1]);
      d = await compile(this.device, [rgb], {
        weights: this.components.vae.weights, sharedInputs: new Map([['latent', latentBuffer]]), autotune: this.o.autotune, onProgress: this.o.onCompile,
      });
      this.decoders.set(key, d);
    }
    return d;
  }

  /**
   * image [1, 3, H, W] in [−1, 1] and ε₁ → the image's latent (mean + exp(logvar / 2) · ε₁) · scaling_factor
   * (diffusers' retrieve_latents in sample mode; logvar clamped to [−30, 20] as DiagonalGaussianDistribution).
   */
  private async encoder(height: number, width: number): Promise<Executable> {
    const key = `${height}x${width}`;
    let e = this.encoders.get(key);
    if (!e) {
      const c = this.components.vae.config;
      const vae = instantiate(autoencoderKL(c))();
      const { mean, logvar } = vae.encode(input('image', [1, c.in_channels, height, width]));
      const eps = input('eps', [1, c.latent_channels, height / this.vaeScale, width / this.vaeScale]);
      const latent = mul(add(mean, mul(exp(mul(logvar, 0.5)), eps)), c.scaling_factor);
      this.o.onCompile?.('compiling the VAE encoder');
      e = await compile(this.device, [latent], { weights: this.components.vae.weights, autotune: this.o.autotune, onProgress: this.o.onCompile });
      this.encoders.set(key, e);
    }
    return e;
  }

  destroy(): void {
    for (const e of this.executors.values()) e.destroy();
    for (const d of this.decoders.values()) d.destroy();
    for (const e of this.encoders.values()) e.destroy();
    this.text.destroy();
  }
}

/**
 * The start image as the VAE encoder's input [1, 3, H, W] in [−1, 1], as diffusers' VaeImageProcessor.preprocess
 * (no resizing: the size must match): 8-bit values v become v / 255 in float32, then 2x − 1 in float32.
 */
export function imageToNchw(image: Image | Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  if (image instanceof Float32Array) {
    if (image.length !== 3 * n) {
      throw new GenerateOptionsError(`image has ${image.length} values; a ${width}×${height} RGB image (HWC) needs ${3 * n}: its size must equal the generation's width × height`);
    }
    for (let i = 0; i < image.length; i++) {
      const v = image[i];
      if (!(v >= 0 && v <= 1)) throw new GenerateOptionsError(`image value ${i} (pixel ${Math.floor(i / 3)}, channel ${i % 3}) is ${v}; expected RGB in [0, 1]`);
    }
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = Math.fround(2 * image[3 * p + c] - 1);
    return out;
  }
  if (image.width !== width || image.height !== height) {
    throw new GenerateOptionsError(`image is ${image.width}×${image.height} but the generation is ${width}×${height}: resize the image, or pass width and height equal to its size`);
  }
  const ch = image.channels;
  if ((ch !== 3 && ch !== 4) || image.data.length !== ch * n) {
    throw new GenerateOptionsError(`image: expected ${width}×${height} 8-bit RGB or RGBA (${3 * n} or ${4 * n} values), found ${image.data.length} values with ${ch} channels`);
  }
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = Math.fround(2 * Math.fround(image.data[ch * p + c] / 255) - 1);
  return out;
}

function toGuidance(g: GenerateOptions['guidance']): GuidanceSpec {
  if (g === undefined) return cfg(7.5);
  if (typeof g === 'number') return cfg(g);
  if (typeof g === 'string') return parseGuidance(g);
  return g;
}

/** Node API entry point: `const pipe = await loadPipeline('kiln-shapes', { device })`. */
export const loadPipeline = (pathOrName: string | undefined, o: PipelineOptions) => Pipeline.load(pathOrName, o);
