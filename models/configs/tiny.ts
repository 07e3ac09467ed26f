// A tiny random-weight SD-1.x-shaped pipeline, written to disk in the diffusers folder layout and/or as one
// original-layout checkpoint: deterministic from a seed, every norm weight non-trivial. For tests of loading and pipelines.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Spec } from '../../dsl/index.js';
import { writeSafetensors } from '../../runtime/safetensors/index.js';
import { clipTextConfig } from '../clip/config.js';
import { clipTextModel } from '../clip/text-model.js';
import { unetConfig } from '../unet/config.js';
import { unet2DConditionModel } from '../unet/unet.js';
import { vaeConfig } from '../vae/config.js';
import { autoencoderKL } from '../vae/autoencoder-kl.js';
import type { WeightMap } from '../weights/diffusers.js';
import { expectedParameters } from '../weights/expected.js';
import { type TextEncoderLayout, ldmClipKeys } from '../weights/ldm-clip.js';
import { toLdmTensors } from '../weights/ldm-export.js';
import { ldmUnetKeys } from '../weights/ldm-unet.js';
import { ldmVaeKeys } from '../weights/ldm-vae.js';
import { mulberry32 } from './random.js';

export const TINY_UNET = {
  _class_name: 'UNet2DConditionModel', attention_head_dim: 8, block_out_channels: [32, 64], cross_attention_dim: 32,
  down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
  in_channels: 4, out_channels: 4, layers_per_block: 1, norm_num_groups: 8, sample_size: 16,
  flip_sin_to_cos: true, freq_shift: 0, use_linear_projection: false,
};
export const TINY_VAE = {
  _class_name: 'AutoencoderKL', block_out_channels: [32, 64], down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'], in_channels: 3, out_channels: 3, latent_channels: 4,
  layers_per_block: 1, norm_num_groups: 8, sample_size: 32, scaling_factor: 0.18215,
};
export const TINY_TEXT_ENCODER = {
  architectures: ['CLIPTextModel'], model_type: 'clip_text_model', vocab_size: 1000, hidden_size: 32, intermediate_size: 37,
  num_hidden_layers: 3, num_attention_heads: 4, max_position_embeddings: 77, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
  bos_token_id: 0, eos_token_id: 2, pad_token_id: 1, projection_dim: 32,
};

/**
 * Random weights for a module: matrices/kernels ~ U(±1/√fan_in), biases ~ U(±0.1), 1-D weights (norms) ~ U(0.5, 1.5).
 * Deterministic in (seed, parameter order).
 */
export function randomWeights(def: Spec, seed: number): Map<string, Float32Array> {
  const r = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of expectedParameters(def)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const norm = shape.length === 1 && name.endsWith('.weight');
    const bound = shape.length === 1 ? 0.1 : 1 / Math.sqrt(fanIn);
    out.set(name, Float32Array.from({ length: n }, () => (norm ? 0.5 + r() : (2 * r() - 1) * bound)));
  }
  return out;
}

export type TinyLayout = 'diffusers' | 'single-file';

export interface TinyPipeline {
  readonly dir: string;
  /** The weights written, by component, under our parameter names. */
  readonly weights: { readonly unet: WeightMap; readonly vae: WeightMap; readonly text_encoder: WeightMap };
  /** The single-file checkpoint's path, when written. */
  readonly checkpoint?: string;
}

/**
 * Write a tiny pipeline into `dir`: model_index.json and each component's config.json always; weights per layout:
 * 'diffusers' → unet/diffusion_pytorch_model.safetensors, vae/…, text_encoder/model.safetensors;
 * 'single-file' → model.safetensors with model.diffusion_model./first_stage_model./cond_stage_model. keys
 * (text encoder in the SD 1.x layout, or OpenCLIP's SD 2.x layout with textEncoderLayout 'sd2').
 */
export async function writeTinyPipeline(dir: string, o: { seed?: number; layouts?: readonly TinyLayout[]; textEncoderLayout?: TextEncoderLayout } = {}): Promise<TinyPipeline> {
  const seed = o.seed ?? 0, layouts = o.layouts ?? ['diffusers', 'single-file'];
  const u = unetConfig(TINY_UNET), v = vaeConfig(TINY_VAE), t = clipTextConfig(TINY_TEXT_ENCODER);
  const defs = { unet: unet2DConditionModel(u), vae: autoencoderKL(v), text_encoder: clipTextModel(t) };
  const weights = {
    unet: randomWeights(defs.unet, seed * 3 + 1), vae: randomWeights(defs.vae, seed * 3 + 2), text_encoder: randomWeights(defs.text_encoder, seed * 3 + 3),
  };
  const configs = { unet: TINY_UNET, vae: TINY_VAE, text_encoder: TINY_TEXT_ENCODER };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model_index.json'), JSON.stringify({
    _class_name: 'StableDiffusionPipeline', unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'],
    text_encoder: ['transformers', 'CLIPTextModel'],
  }, null, 2));
  const f32 = (m: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>) =>
    new Map([...m].map(([k, x]) => [k, { dtype: 'F32' as const, shape: x.shape, data: x.data }]));
  for (const c of ['unet', 'vae', 'text_encoder'] as const) {
    await mkdir(join(dir, c), { recursive: true });
    await writeFile(join(dir, c, 'config.json'), JSON.stringify(configs[c], null, 2));
    if (layouts.includes('diffusers')) {
      const shapes = new Map(expectedParameters(defs[c]).map((p) => [p.name, p.shape]));
      const file = c === 'text_encoder' ? 'model.safetensors' : 'diffusion_pytorch_model.safetensors';
      await writeSafetensors(join(dir, c, file), f32(new Map([...weights[c]].map(([k, d]) => [k, { shape: shapes.get(k)!, data: d }]))));
    }
  }
  let checkpoint: string | undefined;
  if (layouts.includes('single-file')) {
    checkpoint = join(dir, 'model.safetensors');
    const all = new Map([
      ...toLdmTensors(defs.unet, ldmUnetKeys(u), weights.unet),
      ...toLdmTensors(defs.vae, ldmVaeKeys(v), weights.vae),
      ...toLdmTensors(defs.text_encoder, ldmClipKeys(t, o.textEncoderLayout ?? 'sd1'), weights.text_encoder),
    ]);
    await writeSafetensors(checkpoint, f32(all));
  }
  return { dir, weights, checkpoint };
}
