export { Pipeline, loadPipeline, GenerateOptionsError, imageToNchw, type GenerateOptions, type GenerateResult, type PipelineOptions } from './pipeline.js';
export { loadComponents, resolveModelPath, ModelPathError, BUILTIN_MODELS, DEFAULT_MODEL, type PipelineComponents } from './components.js';
export { TextEncoder, substituteEos, ConditioningError, type ConditioningSource } from './conditioning.js';
export { DevicePlanExecutor, type StepInfo } from './plan-executor.js';
export { buildStepGraph, rowScalars, rowStructure, UnsupportedRowError } from './step-graph.js';
export { SAMPLERS, SAMPLER_NAMES, rowsFor, UnknownSamplerError, type SamplerName } from './sampler-names.js';
