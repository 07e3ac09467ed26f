// Single-file checkpoints in the original LDM layout: every component's parameters found through its key mapping,
// all problems (missing, mis-shaped, unexpected) reported in one WeightMismatchError before any data is read.
import type { Spec } from '../../dsl/index.js';
import { type SafetensorsFile, type WeightProblem, WeightMismatchError, openSafetensors } from '../../runtime/safetensors/index.js';
import type { ClipTextConfig } from '../clip/config.js';
import type { UNetConfig } from '../unet/config.js';
import type { VaeConfig } from '../vae/config.js';
import type { WeightMap } from './diffusers.js';
import { expectedParameters } from './expected.js';
import { LDM_CLIP_PREFIX, type TextEncoderLayout, ldmClipKeys } from './ldm-clip.js';
import { type LdmRef, storedShape } from './ldm-ref.js';
import { LDM_UNET_PREFIX, ldmUnetKeys } from './ldm-unet.js';
import { LDM_VAE_PREFIX, ldmVaeKeys } from './ldm-vae.js';

export interface LdmComponent {
  readonly def: Spec;
  readonly keys: (name: string) => LdmRef;
  /** Keys under this prefix that no parameter reads are reported as unexpected (a geometry mismatch); undefined: ignore extras. */
  readonly strictPrefix?: string;
}

/** Load several components from one original-layout file. */
export async function loadLdmComponents<K extends string>(path: string, components: Readonly<Record<K, LdmComponent>>): Promise<Record<K, WeightMap>> {
  const file = await openSafetensors(path);
  try {
    const problems: WeightProblem[] = [];
    const plans = new Map<K, { name: string; key: string; ref: LdmRef }[]>();
    const used = new Set<string>();
    let expectedCount = 0;
    for (const [component, c] of Object.entries(components) as [K, LdmComponent][]) {
      const plan: { name: string; key: string; ref: LdmRef }[] = [];
      for (const { name, shape } of expectedParameters(c.def)) {
        expectedCount++;
        const ref = c.keys(name);
        const key = [ref.key, ...(ref.alternatives ?? [])].find((k) => file.has(k));
        const label = `${component}:${name}`;
        if (key === undefined) {
          problems.push({ kind: 'missing', name: `${label} (stored as ${ref.key})`, expectedShape: shape });
          continue;
        }
        used.add(key);
        const found = file.entry(key).shape;
        const want = storedShape(ref, shape) ?? rowsShape(ref, shape, found);
        if (found.length !== want.length || found.some((d, i) => d !== want[i])) {
          problems.push({ kind: 'shape', name: label, fileKey: key, file: path, expectedShape: want, foundShape: found });
          continue;
        }
        plan.push({ name, key, ref });
      }
      plans.set(component, plan);
    }
    for (const c of Object.values(components) as LdmComponent[]) {
      if (!c.strictPrefix) continue;
      for (const key of file.names) {
        if (key.startsWith(c.strictPrefix) && !used.has(key)) {
          problems.push({ kind: 'unexpected', fileKey: key, name: key, file: path, foundShape: file.entry(key).shape });
        }
      }
    }
    if (problems.length) throw new WeightMismatchError(path, problems, expectedCount);
    const out = {} as Record<K, WeightMap>;
    for (const [component, plan] of plans) {
      const tensors = new Map<string, Float32Array>();
      for (const { name, key, ref } of plan) tensors.set(name, await readRef(file, key, ref));
      out[component] = tensors;
    }
    return out;
  } finally {
    await file.close();
  }
}

/** For a rows reference the stored tensor is [total, …rest] with total ≥ end. */
function rowsShape(ref: LdmRef, expected: readonly number[], found: readonly number[]): readonly number[] {
  const total = found[0] ?? 0;
  return total >= ref.rows![1] ? [total, ...expected.slice(1)] : [ref.rows![1], ...expected.slice(1)];
}

async function readRef(file: SafetensorsFile, key: string, ref: LdmRef): Promise<Float32Array> {
  const data = await file.readFloat32(key);
  if (!ref.rows) return data;
  const shape = file.entry(key).shape, row = shape.slice(1).reduce((a, b) => a * b, 1);
  return data.slice(ref.rows[0] * row, ref.rows[1] * row);
}

export interface StableDiffusionParts {
  readonly unet?: { readonly config: UNetConfig; readonly def: Spec };
  readonly vae?: { readonly config: VaeConfig; readonly def: Spec };
  readonly text_encoder?: { readonly config: ClipTextConfig; readonly def: Spec; readonly layout?: TextEncoderLayout };
}

/**
 * An SD 1.x / 2.x single-file checkpoint (model.diffusion_model., first_stage_model., cond_stage_model.) loaded into
 * the parameter names of the modules built from the given configs. The text encoder layout is detected unless given.
 */
export async function loadStableDiffusionCheckpoint(path: string, parts: StableDiffusionParts): Promise<{ unet?: WeightMap; vae?: WeightMap; text_encoder?: WeightMap }> {
  const components: Partial<Record<'unet' | 'vae' | 'text_encoder', LdmComponent>> = {};
  if (parts.unet) components.unet = { def: parts.unet.def, keys: ldmUnetKeys(parts.unet.config), strictPrefix: LDM_UNET_PREFIX };
  if (parts.vae) components.vae = { def: parts.vae.def, keys: ldmVaeKeys(parts.vae.config), strictPrefix: LDM_VAE_PREFIX };
  if (parts.text_encoder) {
    const layout = parts.text_encoder.layout ?? (await detectTextEncoderLayout(path));
    components.text_encoder = { def: parts.text_encoder.def, keys: ldmClipKeys(parts.text_encoder.config, layout) };
  }
  return loadLdmComponents(path, components as Record<'unet' | 'vae' | 'text_encoder', LdmComponent>);
}

export async function detectTextEncoderLayout(path: string): Promise<TextEncoderLayout> {
  const file = await openSafetensors(path);
  try {
    return file.names.some((k) => k.startsWith(LDM_CLIP_PREFIX.sd2)) ? 'sd2' : 'sd1';
  } finally {
    await file.close();
  }
}
