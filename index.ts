// kiln's public surface: the DSL, the compiler's runtime entry points, samplers and plans, models and the pipeline.
export * from './dsl/index.js';
export { Device, type DeviceOptions } from './runtime/device.js';
export { compile, type CompileOptions } from './runtime/compile.js';
export { Executable, type ExecutableStats, type RunOptions, type RunResult } from './runtime/executable.js';
export { AutotuneCache, autotuneCachePath } from './runtime/autotune.js';
export { NoAdapterError, GpuValidationError, DeviceLostError, DeviceLimitError } from './runtime/errors.js';
export { MissingWeightsError, type WeightSource } from './runtime/weights.js';
export { type Image, encodePng, savePng, imageGrid, imageFromUnit } from './runtime/image.js';
export * from './runtime/safetensors/index.js';
export { readJsonConfig, parseLenientJson } from './runtime/config/index.js';
export * as samplers from './samplers/index.js';
export { cfg, cfgPlusPlus, apg, noGuidance, parseGuidance, formatGuidance, plan, formatPlan, printPlan, type Plan, type GuidanceSpec } from './samplers/index.js';
export * as clip from './models/clip/index.js';
export * as unet from './models/unet/index.js';
export * as vae from './models/vae/index.js';
export * as weights from './models/weights/index.js';
export { loadClipTokenizer, ClipTokenizer } from './models/clip/tokenizer/index.js';
export * from './models/pipeline/index.js';
