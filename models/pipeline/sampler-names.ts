import { KilnError } from '../../dsl/errors.js';
import { type SamplerRows, type StrengthOptions, fromDiffusersConfig, samplerRows } from '../../samplers/index.js';

/** The samplers the CLI and API accept by name: a diffusers scheduler class plus config overrides. */
export const SAMPLERS = {
  ddim: { as: 'DDIMScheduler', overrides: {} },
  ddpm: { as: 'DDPMScheduler', overrides: {} },
  euler: { as: 'EulerDiscreteScheduler', overrides: {} },
  'euler-a': { as: 'EulerAncestralDiscreteScheduler', overrides: {} },
  heun: { as: 'HeunDiscreteScheduler', overrides: {} },
  'dpmpp-2m': { as: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: false } },
  'dpmpp-2m-karras': { as: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true } },
  'dpm-solver': { as: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver', solver_order: 2 } },
  unipc: { as: 'UniPCMultistepScheduler', overrides: {} },
} as const;

export type SamplerName = keyof typeof SAMPLERS | 'default';
export const SAMPLER_NAMES = ['default', ...Object.keys(SAMPLERS)] as readonly SamplerName[];

export class UnknownSamplerError extends KilnError {}

/**
 * Sampler rows for a model's scheduler config, like diffusers' `Scheduler.from_config(pipe.scheduler.config)`:
 * the schedule comes from the model's config, the method from the name ('default' = the config's own class).
 * `strength`: the part-way run of image-to-image (see samplers' PartialStart).
 */
export function rowsFor(schedulerConfig: Record<string, unknown>, name: SamplerName | string, steps: number, run: StrengthOptions = {}): SamplerRows {
  if (!Number.isInteger(steps) || steps < 1) throw new UnknownSamplerError(`steps must be a positive integer, found ${steps}`);
  if (name === 'default') return samplerRows(fromDiffusersConfig(schedulerConfig), steps, run);
  const s = SAMPLERS[name as keyof typeof SAMPLERS];
  if (!s) throw new UnknownSamplerError(`unknown sampler '${name}'; expected one of ${SAMPLER_NAMES.join(', ')}`);
  return samplerRows(fromDiffusersConfig({ ...schedulerConfig, ...s.overrides }, { as: s.as }), steps, run);
}
