import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../dsl/errors.js';
import { readJsonConfig } from '../../runtime/config/index.js';
import { type ClipTextConfig, clipTextConfig, clipTextModel } from '../clip/index.js';
import { type ClipTokenizer, loadClipTokenizer } from '../clip/tokenizer/index.js';
import { type UNetConfig, unet2DConditionModel, unetConfig } from '../unet/index.js';
import { type VaeConfig, autoencoderKL, vaeConfig } from '../vae/index.js';
import { type WeightMap, loadDiffusersComponent, loadStableDiffusionCheckpoint, readComponentConfig } from '../weights/index.js';

/** The model path does not exist or is not a pipeline kiln can read. */
export class ModelPathError extends KilnError {}

/** Models shipped with kiln, by name. */
export const BUILTIN_MODELS = { 'kiln-shapes': 'pretrained/kiln-shapes' } as const;
export const DEFAULT_MODEL = 'kiln-shapes';

export interface PipelineComponents {
  /** Where configs, tokenizer and scheduler came from. */
  readonly root: string;
  readonly tokenizer: ClipTokenizer;
  readonly text: { readonly config: ClipTextConfig; readonly weights: WeightMap };
  readonly unet: { readonly config: UNetConfig; readonly weights: WeightMap };
  readonly vae: { readonly config: VaeConfig; readonly weights: WeightMap };
  readonly scheduler: Record<string, unknown>;
}

export interface LoadOptions {
  preferFp16?: boolean;
  /** For a single-file checkpoint: a pipeline folder with the configs, tokenizer and scheduler to use. */
  configFrom?: string;
  warn?: (message: string) => void;
}

/** kiln's package root, found from this file whether it runs from source or from dist/. */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** A built-in name ('kiln-shapes'), a diffusers pipeline folder, or a single-file .safetensors checkpoint. */
export function resolveModelPath(pathOrName: string = DEFAULT_MODEL): string {
  if (pathOrName in BUILTIN_MODELS) return join(packageRoot(), BUILTIN_MODELS[pathOrName as keyof typeof BUILTIN_MODELS]);
  const p = resolve(pathOrName);
  if (!existsSync(p)) {
    throw new ModelPathError(`model '${pathOrName}' not found: expected a built-in name (${Object.keys(BUILTIN_MODELS).join(', ')}), a diffusers pipeline folder, or a .safetensors checkpoint`);
  }
  return p;
}

export async function loadComponents(pathOrName: string | undefined, o: LoadOptions = {}): Promise<PipelineComponents> {
  const path = resolveModelPath(pathOrName);
  if (statSync(path).isDirectory()) return loadFolder(path, o);
  if (!path.endsWith('.safetensors')) throw new ModelPathError(`model '${path}': expected a pipeline folder or a .safetensors file`);
  const root = o.configFrom ? resolve(o.configFrom) : dirname(path);
  if (!existsSync(join(root, 'model_index.json'))) {
    throw new ModelPathError(`single-file checkpoint '${path}': its configs, tokenizer and scheduler come from a pipeline folder; pass configFrom (CLI: --config DIR), a folder with model_index.json`);
  }
  const configs = await readConfigs(root);
  const parts = {
    unet: { config: configs.unet, def: unet2DConditionModel(configs.unet) },
    vae: { config: configs.vae, def: autoencoderKL(configs.vae) },
    text_encoder: { config: configs.text, def: clipTextModel(configs.text) },
  };
  const w = await loadStableDiffusionCheckpoint(path, parts);
  return {
    root,
    tokenizer: await loadClipTokenizer(join(root, 'tokenizer'), { warn: o.warn }),
    text: { config: configs.text, weights: w.text_encoder! },
    unet: { config: configs.unet, weights: w.unet! },
    vae: { config: configs.vae, weights: w.vae! },
    scheduler: configs.scheduler,
  };
}

async function readConfigs(root: string) {
  for (const c of ['text_encoder', 'unet', 'vae', 'tokenizer', 'scheduler']) {
    if (!existsSync(join(root, c))) throw new ModelPathError(`pipeline folder '${root}' has no ${c}/ folder`);
  }
  return {
    text: clipTextConfig(await readComponentConfig(root, 'text_encoder')),
    unet: unetConfig(await readComponentConfig(root, 'unet')),
    vae: vaeConfig(await readComponentConfig(root, 'vae')),
    scheduler: (await readJsonConfig(join(root, 'scheduler', 'scheduler_config.json'))) as Record<string, unknown>,
  };
}

async function loadFolder(root: string, o: LoadOptions): Promise<PipelineComponents> {
  if (!existsSync(join(root, 'model_index.json'))) throw new ModelPathError(`'${root}' is not a diffusers pipeline folder (no model_index.json)`);
  const configs = await readConfigs(root);
  const load = (c: string, def: Parameters<typeof loadDiffusersComponent>[1]) => loadDiffusersComponent(join(root, c), def, { preferFp16: o.preferFp16 });
  return {
    root,
    tokenizer: await loadClipTokenizer(join(root, 'tokenizer'), { warn: o.warn }),
    text: { config: configs.text, weights: await load('text_encoder', clipTextModel(configs.text)) },
    unet: { config: configs.unet, weights: await load('unet', unet2DConditionModel(configs.unet)) },
    vae: { config: configs.vae, weights: await load('vae', autoencoderKL(configs.vae)) },
    scheduler: configs.scheduler,
  };
}
