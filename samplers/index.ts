// kiln/samplers: noise schedules, samplers as pure functions to plan rows,
// guidance specs as values, plans (JSON), a host executor and torch-compatible
// random numbers. See plan.ts for the row semantics an executor implements.

export { noiseSchedule, sd15Schedule, alphaBar, rescaleZeroTerminalSnr } from './schedule.js';
export type { NoiseSchedule, NoiseScheduleConfig, BetaSchedule, PredictionType } from './schedule.js';
export type { TimestepSpacing } from './timesteps.js';

export { ddim, type DdimOptions } from './ddim.js';
export { ddimInverse, type DdimInverseOptions } from './ddim-inverse.js';
export { ddpm, type DdpmOptions, type DdpmVarianceType } from './ddpm.js';
export { euler, type EulerOptions } from './euler.js';
export { eulerAncestral, type EulerAncestralOptions } from './euler-ancestral.js';
export { heun, type HeunOptions } from './heun.js';
export {
  dpmSolverMultistep,
  dpmSolverPP2M,
  dpmSolverPP2MKarras,
  dpmSolver2M,
  type DpmSolverOptions,
  type DpmSolverAlgorithm,
} from './dpm-solver.js';
export { unipc, type UniPcOptions } from './unipc.js';
export type { SigmaSpaceOptions } from './sigma-space.js';
export { addNoise, skippedSteps, type StrengthOptions } from './strength.js';
export type { ClipOptions } from './clipping.js';

export {
  fromDiffusersConfig,
  parseSchedulerConfigJson,
  samplerRows,
  type SamplerSpec,
  type SchedulerSetup,
} from './diffusers-config.js';

export { cfg, cfgPlusPlus, apg, noGuidance, promptEditing, validateGuidance, stepOfFraction } from './guidance.js';
export type {
  GuidanceSpec,
  GuidanceKind,
  GuidanceBuilder,
  ScaleSchedule,
  ConditioningSchedule,
  ConditioningSwitch,
} from './guidance.js';
export { parseGuidance, formatGuidance } from './guidance-parse.js';

export { plan, guidanceSavings } from './plan-builder.js';
export { PLAN_FORMAT, countModelEvaluations } from './plan.js';
export type {
  Plan,
  PlanRow,
  SamplerRow,
  SamplerRows,
  NoiseLevel,
  Prediction,
  FromLatentAndOutput,
  ClipOp,
  ClipMaps,
  Combine,
  Update,
  RegisterTerm,
  ModelEvaluations,
  PartialStart,
} from './plan.js';
export { serializePlan, deserializePlan, checkPlan } from './plan-json.js';
export { formatPlan, printPlan } from './plan-format.js';
export { executePlan, initialLatent } from './host-executor.js';
export type { ModelFunction, NoiseSource, ExecuteOptions, RowTrace, Latent } from './host-executor.js';

export { TorchGenerator, torchRandn } from './random.js';

export {
  SamplerLayerError,
  ScheduleConfigError,
  SamplerOptionsError,
  GuidanceSpecError,
  PlanError,
  PlanFormatError,
  ExecutionError,
  RandomArgumentError,
} from './errors.js';
