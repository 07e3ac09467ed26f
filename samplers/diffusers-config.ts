// Building a schedule and a sampler from a diffusers scheduler_config.json:
// class name plus fields, mapped onto kiln's options with diffusers' defaults.
// Fields of other scheduler classes are ignored, as diffusers' from_config does;
// fields kiln does not implement are refused when set to a non-default value.

import { match } from 'ts-pattern';
import { SamplerOptionsError, ScheduleConfigError } from './errors.js';
import { ddim, type DdimOptions } from './ddim.js';
import { ddimInverse, type DdimInverseOptions } from './ddim-inverse.js';
import { ddpm, type DdpmOptions } from './ddpm.js';
import { dpmSolverMultistep, type DpmSolverOptions } from './dpm-solver.js';
import { euler, type EulerOptions } from './euler.js';
import { eulerAncestral, type EulerAncestralOptions } from './euler-ancestral.js';
import { heun, type HeunOptions } from './heun.js';
import type { SamplerRows } from './plan.js';
import { noiseSchedule, type NoiseSchedule, type NoiseScheduleConfig } from './schedule.js';
import type { StrengthOptions } from './strength.js';
import { unipc, type UniPcOptions } from './unipc.js';

export type SamplerSpec =
  | { readonly kind: 'ddim'; readonly options: DdimOptions }
  | { readonly kind: 'ddim-inverse'; readonly options: DdimInverseOptions }
  | { readonly kind: 'ddpm'; readonly options: DdpmOptions }
  | { readonly kind: 'euler'; readonly options: EulerOptions }
  | { readonly kind: 'euler-ancestral'; readonly options: EulerAncestralOptions }
  | { readonly kind: 'heun'; readonly options: HeunOptions }
  | { readonly kind: 'dpm-solver'; readonly options: DpmSolverOptions }
  | { readonly kind: 'unipc'; readonly options: UniPcOptions };

export interface SchedulerSetup {
  readonly className: string;
  readonly schedule: NoiseSchedule;
  readonly sampler: SamplerSpec;
}

/**
 * The sampler rows of a setup for a step count. With `strength` (image-to-image),
 * the part-way run diffusers' img2img pipelines take; see PartialStart.
 */
export function samplerRows(setup: Pick<SchedulerSetup, 'schedule' | 'sampler'>, steps: number, run: StrengthOptions = {}): SamplerRows {
  const s = setup.schedule;
  const strength = run.strength !== undefined ? { strength: run.strength } : {};
  return match(setup.sampler)
    .with({ kind: 'ddim' }, ({ options }) => ddim(s, steps, { ...options, ...strength }))
    .with({ kind: 'ddim-inverse' }, ({ options }) => {
      if (run.strength !== undefined) {
        throw new SamplerOptionsError('ddim-inverse', 'strength', 'nothing (inversion runs from data to noise; strength is for image-to-image sampling)', run.strength);
      }
      return ddimInverse(s, steps, options);
    })
    .with({ kind: 'ddpm' }, ({ options }) => ddpm(s, steps, { ...options, ...strength }))
    .with({ kind: 'euler' }, ({ options }) => euler(s, steps, { ...options, ...strength }))
    .with({ kind: 'euler-ancestral' }, ({ options }) => eulerAncestral(s, steps, { ...options, ...strength }))
    .with({ kind: 'heun' }, ({ options }) => heun(s, steps, { ...options, ...strength }))
    .with({ kind: 'dpm-solver' }, ({ options }) => dpmSolverMultistep(s, steps, { ...options, ...strength }))
    .with({ kind: 'unipc' }, ({ options }) => unipc(s, steps, { ...options, ...strength }))
    .exhaustive();
}

/**
 * Parses scheduler_config.json text. diffusers writes Python's JSON extensions
 * (`-Infinity` for DPM-Solver's lambda_min_clipped), which JSON.parse rejects;
 * the bare tokens NaN, Infinity and -Infinity outside strings are accepted here.
 */
export function parseSchedulerConfigJson(text: string): Record<string, unknown> {
  const marker = '\u0000kiln-number:';
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token) {
      out += JSON.stringify(marker + token);
      i += token.length - 1;
    } else out += c;
  }
  const value = JSON.parse(out, (_key, v: unknown) =>
    typeof v === 'string' && v.startsWith(marker) ? Number(v.slice(marker.length)) : v,
  ) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ScheduleConfigError('$', 'a JSON object', value);
  return value as Record<string, unknown>;
}

/**
 * Schedule and sampler from a diffusers scheduler config object. `as` picks a
 * different class than `_class_name` (diffusers' `X.from_config(other.config)`),
 * e.g. to run a PNDM config with DDIM.
 */
export function fromDiffusersConfig(config: Record<string, unknown>, o: { as?: string } = {}): SchedulerSetup {
  const className = o.as ?? config['_class_name'];
  if (typeof className !== 'string') throw new ScheduleConfigError('_class_name', 'a scheduler class name', className);
  const read = reader(config, className);
  const base: NoiseScheduleConfig = {
    numTrainTimesteps: read.int('num_train_timesteps', 1000),
    betaStart: read.num('beta_start', 0.0001),
    betaEnd: read.num('beta_end', 0.02),
    betaSchedule: read.oneOf('beta_schedule', ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const, 'linear'),
    ...(config['trained_betas'] != null ? { trainedBetas: read.numbers('trained_betas') } : {}),
    predictionType: read.oneOf('prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon'),
  };
  const zeroSnr = (): Partial<NoiseScheduleConfig> => ({ rescaleBetasZeroSnr: read.bool('rescale_betas_zero_snr', false) });
  const spacing = (fallback: 'leading' | 'linspace') => read.oneOf('timestep_spacing', ['leading', 'trailing', 'linspace'] as const, fallback);
  const clipping = {
    clipSampleRange: read.num('clip_sample_range', 1),
    thresholding: read.bool('thresholding', false),
    dynamicThresholdingRatio: read.num('dynamic_thresholding_ratio', 0.995),
    sampleMaxValue: read.num('sample_max_value', 1),
  };
  const refuse = (key: string, defaultValue: unknown, why: string) => read.refuse(key, defaultValue, why);

  const built = ((): { schedule: NoiseScheduleConfig; sampler: SamplerSpec } => {
    switch (className) {
      case 'DDIMScheduler':
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'ddim',
            options: {
              ...clipping,
              clipSample: read.bool('clip_sample', true),
              setAlphaToOne: read.bool('set_alpha_to_one', true),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('leading'),
            },
          },
        };
      case 'DDIMInverseScheduler':
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'ddim-inverse',
            options: {
              clipSample: read.bool('clip_sample', true),
              clipSampleRange: read.num('clip_sample_range', 1),
              setAlphaToOne: read.bool('set_alpha_to_one', true),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('leading'),
            },
          },
        };
      case 'DDPMScheduler':
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'ddpm',
            options: {
              ...clipping,
              clipSample: read.bool('clip_sample', true),
              varianceType: read.oneOf('variance_type', ['fixed_small', 'fixed_small_log', 'fixed_large'] as const, 'fixed_small'),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('leading'),
            },
          },
        };
      case 'EulerDiscreteScheduler':
        refuse('interpolation_type', 'linear', "'linear' (log_linear is not implemented)");
        refuse('timestep_type', 'discrete', "'discrete'");
        refuse('use_exponential_sigmas', false, 'false (not implemented)');
        refuse('use_beta_sigmas', false, 'false (not implemented)');
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'euler',
            options: {
              useKarrasSigmas: read.bool('use_karras_sigmas', false),
              ...(config['sigma_min'] != null ? { sigmaMin: read.num('sigma_min', 0) } : {}),
              ...(config['sigma_max'] != null ? { sigmaMax: read.num('sigma_max', 0) } : {}),
              finalSigmasType: read.oneOf('final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('linspace'),
            },
          },
        };
      case 'EulerAncestralDiscreteScheduler':
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: { kind: 'euler-ancestral', options: { stepsOffset: read.int('steps_offset', 0), timestepSpacing: spacing('linspace') } },
        };
      case 'HeunDiscreteScheduler':
        refuse('use_exponential_sigmas', false, 'false (not implemented)');
        refuse('use_beta_sigmas', false, 'false (not implemented)');
        return {
          schedule: base,
          sampler: {
            kind: 'heun',
            options: {
              useKarrasSigmas: read.bool('use_karras_sigmas', false),
              clipSample: read.bool('clip_sample', false),
              clipSampleRange: read.num('clip_sample_range', 1),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('linspace'),
            },
          },
        };
      case 'DPMSolverMultistepScheduler':
        refuse('variance_type', null, 'null (learned variances are not implemented)');
        refuse('use_exponential_sigmas', false, 'false (not implemented)');
        refuse('use_beta_sigmas', false, 'false (not implemented)');
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'dpm-solver',
            options: {
              algorithmType: read.oneOf('algorithm_type', ['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++', 'sde-dpmsolver'] as const, 'dpmsolver++'),
              solverOrder: read.int('solver_order', 2),
              solverType: read.oneOf('solver_type', ['midpoint', 'heun'] as const, 'midpoint'),
              lowerOrderFinal: read.bool('lower_order_final', true),
              eulerAtFinal: read.bool('euler_at_final', false),
              useKarrasSigmas: read.bool('use_karras_sigmas', false),
              useLuLambdas: read.bool('use_lu_lambdas', false),
              finalSigmasType: read.oneOf('final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
              lambdaMinClipped: read.num('lambda_min_clipped', -Infinity),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('linspace'),
              thresholding: clipping.thresholding,
              dynamicThresholdingRatio: clipping.dynamicThresholdingRatio,
              sampleMaxValue: clipping.sampleMaxValue,
            },
          },
        };
      case 'UniPCMultistepScheduler':
        refuse('solver_p', null, 'null (solver_p is not implemented)');
        refuse('use_exponential_sigmas', false, 'false (not implemented)');
        refuse('use_beta_sigmas', false, 'false (not implemented)');
        return {
          schedule: { ...base, ...zeroSnr() },
          sampler: {
            kind: 'unipc',
            options: {
              solverOrder: read.int('solver_order', 2),
              solverType: read.oneOf('solver_type', ['bh1', 'bh2'] as const, 'bh2'),
              predictX0: read.bool('predict_x0', true),
              lowerOrderFinal: read.bool('lower_order_final', true),
              disableCorrector: read.ints('disable_corrector'),
              useKarrasSigmas: read.bool('use_karras_sigmas', false),
              finalSigmasType: read.oneOf('final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
              stepsOffset: read.int('steps_offset', 0),
              timestepSpacing: spacing('linspace'),
              thresholding: clipping.thresholding,
              dynamicThresholdingRatio: clipping.dynamicThresholdingRatio,
              sampleMaxValue: clipping.sampleMaxValue,
            },
          },
        };
      default:
        throw new ScheduleConfigError(
          '_class_name',
          'one of DDIMScheduler, DDIMInverseScheduler, DDPMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, ' +
            "HeunDiscreteScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler (pass { as: '…' } to run another class's config)",
          className,
        );
    }
  })();
  return { className, schedule: noiseSchedule(built.schedule), sampler: built.sampler };
}

function reader(config: Record<string, unknown>, className: string) {
  const get = (key: string): unknown => config[key];
  const fail = (key: string, expected: string): never => {
    throw new ScheduleConfigError(`${className}.${key}`, expected, get(key));
  };
  return {
    num(key: string, fallback: number): number {
      const v = get(key) ?? fallback;
      return typeof v === 'number' && !Number.isNaN(v) ? v : fail(key, 'a number');
    },
    int(key: string, fallback: number): number {
      const v = get(key) ?? fallback;
      return typeof v === 'number' && Number.isInteger(v) ? v : fail(key, 'an integer');
    },
    bool(key: string, fallback: boolean): boolean {
      const v = get(key) ?? fallback;
      return typeof v === 'boolean' ? v : fail(key, 'true or false');
    },
    oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
      const v = get(key) ?? fallback;
      return (values as readonly unknown[]).includes(v) ? (v as T) : fail(key, `one of ${values.map((x) => `'${x}'`).join(', ')}`);
    },
    numbers(key: string): number[] {
      const v = get(key);
      return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : fail(key, 'a list of numbers');
    },
    ints(key: string): number[] {
      const v = get(key) ?? [];
      return Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? (v as number[]) : fail(key, 'a list of step indices');
    },
    refuse(key: string, defaultValue: unknown, expected: string): void {
      const v = get(key);
      if (v === undefined || v === defaultValue || (defaultValue === null && v === null)) return;
      fail(key, expected);
    },
  };
}
