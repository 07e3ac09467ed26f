import { KilnError } from '../dsl/errors.js';

/** Dawn found no adapter: usually no Vulkan/Metal/D3D12 driver is installed. */
export class NoAdapterError extends KilnError {}

/** Dawn rejected something we asked of it (a shader, a pipeline, a dispatch). */
export class GpuValidationError extends KilnError {}

/** The GPU device was lost while kiln was using it. */
export class DeviceLostError extends KilnError {}

/** The device cannot hold what a graph needs (buffer larger than the adapter allows, too many bindings). */
export class DeviceLimitError extends KilnError {}
