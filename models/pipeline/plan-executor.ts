import type { Tensor } from '../../dsl/index.js';
import { compile } from '../../runtime/compile.js';
import type { Device } from '../../runtime/device.js';
import type { Executable } from '../../runtime/executable.js';
import type { Plan, PlanRow } from '../../samplers/plan.js';
import { type ModelFn, type RowStructure, buildStepGraph, rowScalars, rowStructure, structureKey } from './step-graph.js';

export interface ExecutorOptions {
  device: Device;
  model: ModelFn;
  /** Parameter values for the model (uploaded once, shared by every row program). */
  weights: ReadonlyMap<string, Float32Array>;
  latentShape: readonly number[];
  /** Shape of one conditioning: [tokens, width]. */
  contextShape: readonly number[];
  autotune?: boolean;
  onCompile?: (message: string) => void;
}

export interface StepInfo {
  row: number;
  step: number;
  branches: readonly string[];
  batch: number;
}

export interface ExecuteOptions {
  /** Resolves a conditioning name to its embeddings for all B images ([B, tokens, width], row-major). */
  conditioning: (name: string) => Float32Array;
  /** The starting latent, already scaled (initNoiseSigma · z for text-to-image). */
  initial: Float32Array;
  /** Fresh standard-normal noise for a row that draws it. */
  noise: () => Float32Array;
  onRow?: (info: StepInfo) => void;
  /** Read the latent back after every row (a preview or a test; costs a readback per row). */
  onLatent?: (info: StepInfo, latent: Float32Array) => void | Promise<void>;
}

/**
 * Runs a plan on the device: one compiled program per row structure (branch count, combine kind, …),
 * all sharing the UNet weights and the latent/register buffers, so nothing returns to the CPU between
 * rows. Model evaluations are counted here, at the executor, per row and batch size.
 */
export class DevicePlanExecutor {
  private readonly programs = new Map<string, Executable>();
  private readonly state = new Map<string, GPUBuffer>();
  private sharedWeights?: Map<string, GPUBuffer>;
  /** Every model call made: rows, branches and batch sizes, in order. */
  readonly evaluations: StepInfo[] = [];

  constructor(private readonly o: ExecutorOptions) {}

  private stateBuffer(name: string): GPUBuffer {
    let b = this.state.get(name);
    if (!b) {
      const bytes = this.o.latentShape.reduce((a, d) => a * d, 1) * 4;
      b = this.o.device.gpu.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      this.state.set(name, b);
    }
    return b;
  }

  /** The buffer holding the latent: what a decoder program binds to read the result without a readback. */
  get latentBuffer(): GPUBuffer {
    return this.stateBuffer('x');
  }

  async program(s: RowStructure): Promise<Executable> {
    const key = structureKey(s);
    const hit = this.programs.get(key);
    if (hit) return hit;
    const g = buildStepGraph(s, this.o.latentShape, this.o.contextShape, this.o.model);
    const names = ['x', ...Array.from({ length: s.registers }, (_, j) => `r${j}`)];
    this.o.onCompile?.(`compiling the ${s.branches}-branch step program`);
    const exe = await compile(this.o.device, g.outputs, {
      weights: this.o.weights,
      sharedWeights: this.sharedWeights,
      sharedInputs: new Map(names.map((n) => [n, this.stateBuffer(n)])),
      feedback: g.feedback,
      autotune: this.o.autotune,
      onProgress: this.o.onCompile,
    });
    this.sharedWeights ??= exe.weightBuffers();
    this.programs.set(key, exe);
    return exe;
  }

  /** Compile every structure a plan needs, before the first step runs. */
  async prepare(plan: Plan): Promise<void> {
    for (const row of plan.rows) await this.program(rowStructure(row, plan.registers));
  }

  async execute(plan: Plan, e: ExecuteOptions): Promise<void> {
    await this.prepare(plan);
    const q = this.o.device.gpu.queue;
    const zero = new Float32Array(this.o.latentShape.reduce((a, d) => a * d, 1));
    q.writeBuffer(this.stateBuffer('x'), 0, e.initial);
    for (let j = 0; j < plan.registers; j++) q.writeBuffer(this.stateBuffer(`r${j}`), 0, zero);
    let lastContext = '';
    for (const [i, row] of plan.rows.entries()) {
      const s = rowStructure(row, plan.registers);
      const exe = await this.program(s);
      const feeds: Record<string, Float32Array | number> = {};
      const scalars = rowScalars(row, s);
      const known = new Set(exe.inputNames);
      for (const [k, v] of Object.entries(scalars)) if (known.has(k)) feeds[k] = v;
      const contextKey = `${structureKey(s)}|${row.branches.join(',')}`;
      if (contextKey !== lastContext) {
        feeds.context = concat(row.branches.map((b) => e.conditioning(b)));
        lastContext = contextKey;
      }
      if (row.update.noise !== undefined) feeds.z = e.noise();
      exe.setInputs(feeds);
      await exe.enqueue();
      const info = { row: i, step: row.step, branches: row.branches, batch: row.branches.length * this.o.latentShape[0] };
      this.evaluations.push(info);
      if (e.onLatent) await e.onLatent(info, await this.readLatent());
      if (e.onRow) {
        // Progress must report finished rows, not queued ones: wait for the GPU (no data comes back).
        await this.o.device.idle();
        e.onRow(info);
      }
    }
    await this.o.device.idle();
  }

  async readLatent(): Promise<Float32Array> {
    return new Float32Array(await this.o.device.readBuffer(this.latentBuffer, this.latentBuffer.size));
  }

  destroy(): void {
    for (const p of this.programs.values()) p.destroy();
    for (const b of this.state.values()) b.destroy();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type { PlanRow, Tensor };
