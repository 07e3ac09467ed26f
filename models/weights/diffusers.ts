// diffusers folder layout: one folder per component (unet/, vae/, text_encoder/); state-dict keys are our parameter paths.
import { join } from 'node:path';
import type { Spec } from '../../dsl/index.js';
import { readJsonConfig } from '../../runtime/config/index.js';
import { loadComponentWeights } from '../../runtime/safetensors/index.js';
import { expectedParameters } from './expected.js';

export type WeightMap = ReadonlyMap<string, Float32Array>;

/** Buffers transformers may save next to the weights; they are not parameters. */
const isBuffer = (key: string) => key.endsWith('.position_ids');

/**
 * Load one component folder's weights for a module definition: every parameter must be present with its shape,
 * and every stored tensor must be a parameter; otherwise one WeightMismatchError lists all problems.
 */
export async function loadDiffusersComponent(folder: string, def: Spec, o: { preferFp16?: boolean } = {}): Promise<WeightMap> {
  const { tensors } = await loadComponentWeights(folder, expectedParameters(def), {
    preferFp16: o.preferFp16, rename: (k) => (isBuffer(k) ? undefined : k),
  });
  return tensors;
}

/** A component's config.json, read leniently (NaN/Infinity allowed). */
export const readComponentConfig = (root: string, component: string) => readJsonConfig(join(root, component, 'config.json'));
