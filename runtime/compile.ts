import { ArgumentError } from '../dsl/errors.js';
import type { Tensor } from '../dsl/node.js';
import { type ConcreteShape, numel } from '../dsl/shape.js';
import { UNIFORM_VEC4S } from '../compiler/expr.js';
import { type LowerOptions, type LoweredKernel, type Program, lower } from '../compiler/lower.js';
import type { KernelCode } from '../compiler/kernels/common.js';
import { AutotuneCache } from './autotune.js';
import type { Device } from './device.js';
import { DeviceLimitError, GpuValidationError } from './errors.js';
import { type Dispatch, Executable } from './executable.js';
import { MissingWeightsError, type WeightSource, lookupWeight } from './weights.js';

export interface CompileOptions extends LowerOptions {
  /** Values of the graph's parameters, uploaded once. */
  weights?: WeightSource;
  /** Parameter buffers already on the device (another executable's `weightBuffers()`): bound, not copied. */
  sharedWeights?: ReadonlyMap<string, GPUBuffer>;
  /**
   * Input buffers owned by the caller, by input name: several executables that bind the same buffer share
   * state on the GPU (a sampling loop's latent moves between step programs without a readback).
   */
  sharedInputs?: ReadonlyMap<string, GPUBuffer>;
  /** After each run, copy an output into an input on the GPU: { inputName: outputTensor }. */
  feedback?: Readonly<Record<string, Tensor>>;
  /**
   * Measure the variants of kernels not yet in the cache on this adapter (true), or take the cached choice and
   * else the adapter's default without measuring (false, the default: a first run should not spend minutes
   * compiling candidates; `kiln generate --autotune` or one tuning run fills the cache for every later one).
   */
  autotune?: boolean;
  /** Kernels with less arithmetic than this take the default variant unmeasured (default MEASURE_FLOPS). */
  measureFlops?: number;
  cache?: AutotuneCache;
  onProgress?: (message: string) => void;
}

/** Compile a graph once for a device: fuse, plan memory, generate WGSL, choose kernels, upload weights. */
export async function compile(dev: Device, outputs: readonly Tensor[], o: CompileOptions = {}): Promise<Executable> {
  const t0 = performance.now();
  // The caller's outputs, then feedback-only outputs (kept alive, not returned).
  const allOutputs = [...outputs, ...Object.values(o.feedback ?? {}).filter((t) => !outputs.includes(t))];
  const program = lower(allOutputs, o);
  const shownOutputs = program.outputs.slice(0, outputs.length);
  const feedback = Object.entries(o.feedback ?? {}).map(([to, from]) => {
    return { from: program.outputs[allOutputs.indexOf(from)], to };
  });
  for (const f of feedback) {
    const input = program.inputs.get(f.to);
    if (!input || program.scalarSlots.has(f.to)) throw new ArgumentError(`compile: feedback target '${f.to}' is not a tensor input of this graph`);
    if (numel(input.shape as ConcreteShape) !== numel(f.from.shape as ConcreteShape)) {
      throw new ArgumentError(`compile: feedback into '${f.to}' has ${numel(f.from.shape as ConcreteShape)} values, the input holds ${numel(input.shape as ConcreteShape)}`);
    }
  }

  const shared = new Map<number, GPUBuffer>();
  for (const [name, t] of program.params) {
    const b = o.sharedWeights?.get(name);
    if (b && b.size >= numel(t.shape as ConcreteShape) * 4) shared.set(program.memory.slotOf.get(t)!, b);
  }
  for (const [name, b] of o.sharedInputs ?? []) {
    const t = program.inputs.get(name);
    if (!t || program.scalarSlots.has(name)) continue;
    const need = numel(t.shape as ConcreteShape) * 4;
    if (b.size < need) throw new DeviceLimitError(`compile: shared buffer for input '${name}' holds ${b.size} bytes, the input needs ${need}`);
    shared.set(program.memory.slotOf.get(t)!, b);
  }
  const buffers = await createBuffers(dev, program, shared);
  await uploadWeights(dev, program, buffers, o.weights, new Set(shared.keys()));
  const uniform = program.scalarSlots.size
    ? dev.gpu.createBuffer({ size: UNIFORM_VEC4S * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
    : undefined;

  const cache = o.cache ?? new AutotuneCache();
  const pipelines = new Map<string, Promise<GPUComputePipeline>>();
  const pipelineFor = (k: KernelCode) => {
    let p = pipelines.get(k.code);
    if (!p) {
      p = buildPipeline(dev, k);
      pipelines.set(k.code, p);
    }
    return p;
  };
  const bind = (k: KernelCode, root: Tensor, pipeline: GPUComputePipeline): GPUBindGroup => {
    const slot = (t: Tensor) => buffers[program.memory.slotOf.get(t)!];
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: slot(root) } }];
    k.io.reads.forEach((t, i) => entries.push({ binding: i + 1, resource: { buffer: slot(t) } }));
    if (k.io.usesUniforms) entries.push({ binding: k.io.reads.length + 1, resource: { buffer: uniform! } });
    return dev.gpu.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  };

  const maxBindings = dev.limits.maxStorageBuffersPerShaderStage;
  for (const k of program.kernels) {
    if (k.reads.length + 1 > maxBindings) {
      throw new DeviceLimitError(`compile: ${k.root} reads ${k.reads.length} buffers; this adapter binds at most ${maxBindings - 1} per kernel`);
    }
  }
  // Kernels whose variant is already decided start compiling at once, all together: Dawn and the driver
  // overlap the work, and nothing waits on one shader before asking for the next.
  const decided = program.kernels.map((k) => decidedVariant(dev, k, cache, o.autotune ?? false, o.measureFlops ?? MEASURE_FLOPS));
  decided.forEach((v, i) => v && void pipelineFor(program.kernels[i].generate(v)).catch(() => undefined));
  const dispatches: Dispatch[] = [];
  let done = 0;
  for (const [i, k] of program.kernels.entries()) {
    const variant = decided[i] ?? (await measureVariants(dev, k, cache, async (v) => {
      const code = k.generate(v);
      const pipeline = await pipelineFor(code);
      return { code, pipeline, bindGroup: bind(code, k.root, pipeline) };
    }));
    const code = k.generate(variant);
    const pipeline = await pipelineFor(code);
    dispatches.push({ label: code.label, variant, pipeline, bindGroup: await dev.scoped(`binding ${code.label}`, () => bind(code, k.root, pipeline)), workgroups: code.workgroups });
    if (++done % 25 === 0) o.onProgress?.(`compiled ${done}/${program.kernels.length} kernels`);
  }
  cache.save();

  const weightSlots = new Set([...program.params.values(), ...program.constants].map((t) => program.memory.slotOf.get(t)!));
  const activation = program.memory.slotBytes.filter((_, i) => !weightSlots.has(i));
  const stats = {
    dispatches: dispatches.length,
    peakBufferBytes: activation.reduce((a, b) => a + b, 0),
    weightBytes: [...weightSlots].reduce((a, s) => a + program.memory.slotBytes[s], 0),
    largestBufferBytes: Math.max(0, ...activation),
    kernels: dispatches.map((d) => ({ label: d.label, variant: d.variant })),
    compileMs: performance.now() - t0,
  };
  const callerOwned = [...program.inputs.keys()].filter((n) => o.sharedInputs?.has(n));
  return new Executable(dev, { ...program, outputs: shownOutputs }, buffers, dispatches, uniform, feedback, stats, new Set(shared.values()), callerOwned);
}

async function createBuffers(dev: Device, program: Program, shared: ReadonlyMap<number, GPUBuffer>): Promise<GPUBuffer[]> {
  const max = Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize);
  return dev.scoped('allocating buffers', () =>
    program.memory.slotBytes.map((bytes, i) => {
      const s = shared.get(i);
      if (s) return s;
      if (bytes > max) {
        const t = [...program.memory.slotOf].find(([, s]) => s === i)?.[0];
        throw new DeviceLimitError(`compile: ${t} needs a ${bytes}-byte buffer; this adapter allows ${max} bytes per buffer`);
      }
      return dev.gpu.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    }),
  );
}

async function uploadWeights(
  dev: Device, program: Program, buffers: GPUBuffer[], weights: WeightSource | undefined, alreadyThere: ReadonlySet<number>,
): Promise<void> {
  const problems: { name: string; expected: ConcreteShape; found?: number }[] = [];
  const writes: [GPUBuffer, Float32Array][] = [];
  for (const [name, t] of program.params) {
    if (alreadyThere.has(program.memory.slotOf.get(t)!)) continue;
    const v = lookupWeight(weights, name, t.shape);
    const n = numel(t.shape as ConcreteShape);
    if (!v || v.length !== n) {
      problems.push({ name, expected: t.shape as ConcreteShape, found: v?.length });
      continue;
    }
    writes.push([buffers[program.memory.slotOf.get(t)!], v instanceof Float32Array ? v : Float32Array.from(v)]);
  }
  if (problems.length) throw new MissingWeightsError(problems);
  for (const t of program.constants) {
    if (t.op.kind === 'constant') writes.push([buffers[program.memory.slotOf.get(t)!], Float32Array.from(t.op.data)]);
  }
  for (const [b, data] of writes) dev.gpu.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
}

async function buildPipeline(dev: Device, k: KernelCode): Promise<GPUComputePipeline> {
  const module = dev.gpu.createShaderModule({ code: k.code, label: k.label });
  try {
    return await dev.gpu.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: k.label });
  } catch (e) {
    // Only now ask for the compiler's messages: on success they would cost a round trip per shader.
    const info = await module.getCompilationInfo();
    const lines = k.code.split('\n');
    const detail = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n');
    throw new GpuValidationError(detail ? `WGSL for ${k.label} (${k.variant}) did not compile:\n${detail}` : `pipeline for ${k.label} (${k.variant}) was rejected: ${(e as Error).message}`);
  }
}

type Candidate = { code: KernelCode; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup };

/** The variant to run when no measurement is needed: the only one, the cached choice, or the adapter's default. */
function decidedVariant(dev: Device, k: LoweredKernel, cache: AutotuneCache, measure: boolean, measureFlops: number): string | undefined {
  if (k.variants.length === 1) return k.variants[0];
  const cached = cache.get(dev.description, k.signature);
  if (cached && k.variants.includes(cached)) return cached;
  // Small kernels are not worth a measurement: compiling every candidate costs more than any of them runs.
  return measure && k.flops >= measureFlops ? undefined : defaultVariant(dev, k.variants, k.flops);
}

/** Below this much arithmetic a kernel takes the adapter's default variant instead of being measured. */
export const MEASURE_FLOPS = 5e7;

/** Time every variant on this adapter with the kernel's real buffers; remember the fastest. */
async function measureVariants(dev: Device, k: LoweredKernel, cache: AutotuneCache, build: (v: string) => Promise<Candidate>): Promise<string> {
  const cached = cache.get(dev.description, k.signature);
  if (cached && k.variants.includes(cached)) return cached;
  const ms: Record<string, number> = {};
  // 'naive' is the baseline one thread per output: never the fastest on real work, and slow to time.
  const candidates = k.variants.length > 1 ? k.variants.filter((v) => v !== 'naive') : k.variants;
  for (const v of candidates.length ? candidates : k.variants) ms[v] = await timeDispatch(dev, await build(v));
  const best = Object.entries(ms).sort((a, b) => a[1] - b[1])[0][0];
  cache.set(dev.description, k.signature, best, ms);
  return best;
}

/**
 * Without measurements: on CPU rasterisers, uniform-row register blocking (ur8x8 for real work, rb8x4 for small
 * kernels, where its quick compile matters more); workgroup-memory tiling on GPUs.
 */
export function defaultVariant(dev: Device, variants: readonly string[], flops = Infinity): string {
  const prefer = dev.isCpu ? (flops >= 1e7 ? ['ur8x8', 'rb8x4'] : ['rb8x4', 'rb4x4']) : ['tiled64', 'rb4x4'];
  return prefer.find((v) => variants.includes(v)) ?? variants[0];
}

async function timeDispatch(dev: Device, c: Candidate): Promise<number> {
  const runOnce = async (reps: number) => {
    const enc = dev.gpu.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, c.bindGroup);
    for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(...c.code.workgroups);
    pass.end();
    const t = performance.now();
    dev.gpu.queue.submit([enc.finish()]);
    await dev.idle();
    return (performance.now() - t) / reps;
  };
  const first = await runOnce(1);
  // Enough repetitions for ~20 ms of work, so timer and submission noise stay small.
  const reps = Math.min(50, Math.max(1, Math.ceil(20 / Math.max(first, 0.01))));
  return Math.min(await runOnce(reps), await runOnce(reps));
}
