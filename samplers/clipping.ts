// The x0 clipping options diffusers schedulers share (clip_sample and Imagen's
// dynamic thresholding), as a plan row's clip op.

import { SamplerOptionsError } from './errors.js';
import type { ClipMaps, ClipOp } from './plan.js';

export interface ClipOptions {
  /** Clamp x0 to [−clipSampleRange, clipSampleRange]. */
  readonly clipSample?: boolean;
  readonly clipSampleRange?: number;
  /** Dynamic thresholding (Saharia et al. 2022); takes precedence over clipSample. */
  readonly thresholding?: boolean;
  readonly dynamicThresholdingRatio?: number;
  readonly sampleMaxValue?: number;
}

/** Maps for a row whose working prediction is x0 itself. */
export const X0_MAPS: ClipMaps = { toX0: { x: 0, pred: 1 }, fromX0: { x: 0, x0: 1 } };

export function clipOp(sampler: string, o: ClipOptions, defaultClip: boolean, maps: ClipMaps): ClipOp | undefined {
  if (o.thresholding ?? false) {
    const ratio = o.dynamicThresholdingRatio ?? 0.995;
    const maxValue = o.sampleMaxValue ?? 1;
    if (!(ratio > 0 && ratio <= 1)) throw new SamplerOptionsError(sampler, 'dynamicThresholdingRatio', 'a number in (0, 1]', ratio);
    if (!(maxValue >= 1)) throw new SamplerOptionsError(sampler, 'sampleMaxValue', 'a number ≥ 1', maxValue);
    return { kind: 'dynamic', ratio, maxValue, ...maps };
  }
  if (o.clipSample ?? defaultClip) {
    const range = o.clipSampleRange ?? 1;
    if (!(range > 0)) throw new SamplerOptionsError(sampler, 'clipSampleRange', 'a number > 0', range);
    return { kind: 'clamp', range, ...maps };
  }
  return undefined;
}
