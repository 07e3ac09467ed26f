// Typed errors of the samplers layer. Every message says where the problem is,
// what was expected and what was found, so a caller can fix the input without
// reading kiln's source.

/** Base class: lets callers catch anything thrown by samplers/ in one clause. */
export class SamplerLayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A noise schedule or diffusers scheduler config that kiln cannot build. */
export class ScheduleConfigError extends SamplerLayerError {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`schedule config field '${field}': expected ${expected}, found ${describe(found)}`);
  }
}

/** Sampler options (or a step count) that the sampler cannot honour. */
export class SamplerOptionsError extends SamplerLayerError {
  constructor(
    readonly sampler: string,
    readonly option: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`${sampler}: option '${option}': expected ${expected}, found ${describe(found)}`);
  }
}

/**
 * A guidance spec that is malformed on its own (string or JSON form).
 * `position` is the character offset in the compact string, or the JSON path.
 */
export class GuidanceSpecError extends SamplerLayerError {
  constructor(
    readonly spec: string,
    readonly position: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`guidance spec ${JSON.stringify(spec)} at ${position}: expected ${expected}, found ${found}`);
  }
}

/** A guidance spec that is well-formed but does not fit the sampler rows it is applied to. */
export class PlanError extends SamplerLayerError {
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${where}: expected ${expected}, found ${found}`);
  }
}

/** A serialized plan that does not have the plan format. */
export class PlanFormatError extends SamplerLayerError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`plan ${path}: expected ${expected}, found ${describe(found)}`);
  }
}

/** The host executor was given inputs that do not fit the plan. */
export class ExecutionError extends SamplerLayerError {
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`executePlan ${where}: expected ${expected}, found ${found}`);
  }
}

/** A seed or shape the PyTorch-compatible generator cannot take. */
export class RandomArgumentError extends SamplerLayerError {
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`torch-compatible generator: ${argument}: expected ${expected}, found ${describe(found)}`);
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
