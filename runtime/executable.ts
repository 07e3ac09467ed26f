import type { Tensor } from '../dsl/node.js';
import { FeedError } from '../dsl/errors.js';
import { type ConcreteShape, fmtShape, numel } from '../dsl/shape.js';
import { UNIFORM_VEC4S } from '../compiler/expr.js';
import type { Program } from '../compiler/lower.js';
import type { Device } from './device.js';

export interface Dispatch {
  label: string;
  variant: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export type FeedValue = ArrayLike<number> | number;

export interface RunOptions {
  /** Read outputs back (default true). Skip it between steps of a loop that stays on the GPU. */
  read?: boolean;
  /** Captured intermediates to read back by name. */
  captures?: readonly string[];
}

export interface RunResult {
  outputs: Float32Array[];
  captures: Map<string, Float32Array>;
}

export interface ExecutableStats {
  dispatches: number;
  /** Bytes of all activation buffers (inputs, intermediates, outputs), weights excluded. */
  peakBufferBytes: number;
  weightBytes: number;
  largestBufferBytes: number;
  kernels: { label: string; variant: string }[];
  compileMs: number;
}

/**
 * A compiled graph bound to a device: its buffers and its ordered dispatch list. Inputs keep their
 * values between runs (feeds update them), so constant conditioning is uploaded once; `feedback`
 * pairs copy an output into an input after each run on the GPU, so a sampling loop never reads back.
 */
export class Executable {
  constructor(
    readonly device: Device,
    readonly program: Program,
    private readonly buffers: GPUBuffer[],
    private readonly dispatches: Dispatch[],
    private readonly uniform: GPUBuffer | undefined,
    private readonly feedback: readonly { from: Tensor; to: string }[],
    readonly stats: ExecutableStats,
    /** Buffers owned by another executable: never destroyed here. */
    private readonly borrowed: ReadonlySet<GPUBuffer> = new Set(),
    /** Inputs whose buffers the caller fills (shared state): they need no feed. */
    callerOwned: readonly string[] = [],
  ) {
    for (const n of callerOwned) this.fed.add(n);
  }

  /** Inputs that have a value: running with one missing would silently compute with zeros. */
  private readonly fed = new Set<string>();

  private readonly scalars = new Float32Array(UNIFORM_VEC4S * 4);

  private bufferOf(t: Tensor): GPUBuffer {
    return this.buffers[this.program.memory.slotOf.get(t)!];
  }

  get inputNames(): string[] {
    return [...this.program.inputs.keys()];
  }

  /** Upload new values for some inputs (arrays) or per-run scalars (numbers). */
  setInputs(feeds: Readonly<Record<string, FeedValue>>): void {
    let scalarsChanged = false;
    for (const [name, value] of Object.entries(feeds)) {
      const t = this.program.inputs.get(name);
      if (!t) throw new FeedError(`run: no input named '${name}'; inputs are ${this.inputNames.join(', ') || 'none'}`);
      const slot = this.program.scalarSlots.get(name);
      if (slot !== undefined) {
        const v = typeof value === 'number' ? value : value.length === 1 ? value[0] : NaN;
        if (Number.isNaN(v) && typeof value !== 'number') throw new FeedError(`run: input '${name}' is a scalar, found ${value.length} values`);
        this.scalars[slot] = v;
        scalarsChanged = true;
        this.fed.add(name);
        continue;
      }
      const n = numel(t.shape as ConcreteShape);
      const arr = typeof value === 'number' ? [value] : value;
      if (arr.length !== n) throw new FeedError(`run: input '${name}' ${fmtShape(t.shape)} needs ${n} values, found ${arr.length}`);
      const data = t.dtype === 'i32' ? Int32Array.from(arr) : arr instanceof Float32Array ? arr : Float32Array.from(arr);
      this.device.gpu.queue.writeBuffer(this.bufferOf(t), 0, data.buffer, data.byteOffset, data.byteLength);
      this.fed.add(name);
    }
    if (scalarsChanged && this.uniform) this.device.gpu.queue.writeBuffer(this.uniform, 0, this.scalars);
  }

  /** Queue every dispatch (and the feedback copies) once; Dawn's complaints become typed errors. */
  async enqueue(): Promise<void> {
    const missing = this.inputNames.filter((n) => !this.fed.has(n));
    if (missing.length) throw new FeedError(`run: input${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} never received a value; feed ${missing.length > 1 ? 'them' : 'it'} in run() or setInputs()`);
    await this.device.scoped('running the compiled graph', () => this.encode());
  }

  private encode(): void {
    const enc = this.device.gpu.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
    for (const f of this.feedback) {
      const src = this.bufferOf(f.from), dst = this.bufferOf(this.program.inputs.get(f.to)!);
      enc.copyBufferToBuffer(src, 0, dst, 0, src.size);
    }
    this.device.gpu.queue.submit([enc.finish()]);
  }

  async run(feeds: Readonly<Record<string, FeedValue>> = {}, o: RunOptions = {}): Promise<RunResult> {
    this.setInputs(feeds);
    await this.enqueue();
    if (o.read === false) {
      await this.device.idle();
      return { outputs: [], captures: new Map() };
    }
    const outputs = await Promise.all(this.program.outputs.map((t) => this.read(t)));
    const captures = new Map<string, Float32Array>();
    for (const name of o.captures ?? [...this.program.captures.keys()]) captures.set(name, await this.readCapture(name));
    return { outputs, captures };
  }

  async readCapture(name: string): Promise<Float32Array> {
    const t = this.program.captures.get(name);
    if (!t) throw new FeedError(`no capture named '${name}' was compiled; compiled captures: ${[...this.program.captures.keys()].join(', ') || 'none'}`);
    return this.read(t);
  }

  /** Read a materialized tensor (an output, capture or input) back to the CPU. */
  async read(t: Tensor): Promise<Float32Array> {
    const raw = await this.device.readBuffer(this.bufferOf(t), numel(t.shape as ConcreteShape) * 4);
    return t.dtype === 'i32' ? Float32Array.from(new Int32Array(raw)) : new Float32Array(raw);
  }

  /** The output buffers by position, for chaining executables on the GPU without a readback. */
  outputBuffer(i: number): GPUBuffer {
    return this.bufferOf(this.program.outputs[i]);
  }

  inputBuffer(name: string): GPUBuffer {
    const t = this.program.inputs.get(name);
    if (!t || this.program.scalarSlots.has(name)) throw new FeedError(`no buffer input named '${name}'`);
    return this.bufferOf(t);
  }

  /** Time every dispatch on its own (after the inputs set so far): where a graph spends its time. */
  async profile(reps = 1): Promise<{ label: string; variant: string; ms: number }[]> {
    const out: { label: string; variant: string; ms: number }[] = [];
    for (const d of this.dispatches) {
      const enc = this.device.gpu.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
      const t = performance.now();
      this.device.gpu.queue.submit([enc.finish()]);
      await this.device.idle();
      out.push({ label: d.label, variant: d.variant, ms: (performance.now() - t) / reps });
    }
    return out;
  }

  /** Parameter buffers by name, to share with another compile of the same weights (`sharedWeights`). */
  weightBuffers(): Map<string, GPUBuffer> {
    return new Map([...this.program.params].map(([name, t]) => [name, this.bufferOf(t)]));
  }

  destroy(): void {
    for (const b of new Set(this.buffers)) if (!this.borrowed.has(b)) b.destroy();
    this.uniform?.destroy();
  }
}
