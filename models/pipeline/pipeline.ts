import { KilnError } from '../../dsl/errors.js';
import { type Tensor, add, clamp01, input, instantiate, mul, permute } from './graph-helpers.js';
import { compile } from '../../runtime/compile.js';
import type { Device } from '../../runtime/device.js';
import type { Executable } from '../../runtime/executable.js';
import { type Image, imageFromUnit } from '../../runtime/image.js';
import { type GuidanceSpec, type Plan, TorchGenerator, cfg, parseGuidance, plan as buildPlan } from '../../samplers/index.js';
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
  /** Use this starting latent instead of seeded noise (already scaled). */
  initialLatent?: Float32Array;
}

export interface GenerateResult {
  images: Image[];
  plan: Plan;
  seed: bigint;
  /** x_T as sampling started: initNoiseSigma · torch.randn(shape) for the seed (or the given initialLatent). */
  initialLatent: Float32Array;
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

  /** The plan a generation would run: no model is evaluated. */
  plan(o: Pick<GenerateOptions, 'steps' | 'sampler' | 'guidance'>): Plan {
    return buildPlan(rowsFor(this.components.scheduler, o.sampler ?? 'default', o.steps ?? 25), toGuidance(o.guidance));
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    const t0 = performance.now();
    const width = o.width ?? this.defaultSize, height = o.height ?? this.defaultSize, batch = o.batch ?? 1;
    const m = this.sizeMultiple;
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < m || v % m !== 0) throw new GenerateOptionsError(`${name} must be a positive multiple of ${m} for this model, found ${v}`);
    }
    if (!Number.isInteger(batch) || batch < 1) throw new GenerateOptionsError(`batch must be a positive integer, found ${batch}`);
    const plan = this.plan(o);
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
    const t2 = performance.now();

    const gen = new TorchGenerator(seed);
    const initial = gen.randn(latentShape);
    for (let i = 0; i < initial.length; i++) initial[i] *= plan.initNoiseSigma;
    if (o.initialLatent) {
      if (o.initialLatent.length !== initial.length) throw new GenerateOptionsError(`initialLatent has ${o.initialLatent.length} values, the latent [${latentShape.join(', ')}] needs ${initial.length}`);
      initial.set(o.initialLatent);
    }
    const startEval = exec.evaluations.length;
    await exec.execute(plan, {
      conditioning: (n) => embeddings.get(n)!,
      initial,
      noise: () => gen.randn(latentShape),
      onLatent: o.onLatent && ((info, latent) => o.onLatent!(info.row, latent)),
      onRow: (info) => o.onStep?.({ row: info.row, rows: plan.rows.length, step: info.step, steps: plan.steps, elapsedMs: performance.now() - t2, info }),
    });
    const t3 = performance.now();

    const { outputs } = await decoder.run({});
    const [, , h, w] = latentShape;
    const px = h * this.vaeScale * w * this.vaeScale * 3;
    const images = Array.from({ length: batch }, (_, b) => imageFromUnit(outputs[0].subarray(b * px, (b + 1) * px), w * this.vaeScale, h * this.vaeScale, 3));
    const t4 = performance.now();
    return {
      images,
      plan,
      seed,
      initialLatent: initial,
      evaluations: exec.evaluations.slice(startEval),
      timings: { encodeMs: t1 - t0, compileMs: t2 - t1, denoiseMs: t3 - t2, decodeMs: t4 - t3, totalMs: t4 - t0 },
      parameters: {
        prompt: o.prompt, negative_prompt: o.negativePrompt ?? '', steps: String(plan.steps), sampler: plan.sampler,
        guidance: JSON.stringify(plan.guidance), seed: String(seed), width: String(width), height: String(height),
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
      const rgb = permute(clamp01(add(mul(img, 0.5), 0.5)), [0, 2, 3, 1]);
      d = await compile(this.device, [rgb], {
        weights: this.components.vae.weights, sharedInputs: new Map([['latent', latentBuffer]]), autotune: this.o.autotune, onProgress: this.o.onCompile,
      });
      this.decoders.set(key, d);
    }
    return d;
  }

  destroy(): void {
    for (const e of this.executors.values()) e.destroy();
    for (const d of this.decoders.values()) d.destroy();
    this.text.destroy();
  }
}

function toGuidance(g: GenerateOptions['guidance']): GuidanceSpec {
  if (g === undefined) return cfg(7.5);
  if (typeof g === 'number') return cfg(g);
  if (typeof g === 'string') return parseGuidance(g);
  return g;
}

/** Node API entry point: `const pipe = await loadPipeline('kiln-shapes', { device })`. */
export const loadPipeline = (pathOrName: string | undefined, o: PipelineOptions) => Pipeline.load(pathOrName, o);
