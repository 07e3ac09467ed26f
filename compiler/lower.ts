import { match } from 'ts-pattern';
import { sources } from '../dsl/graph.js';
import type { Tensor } from '../dsl/node.js';
import { type ConcreteShape, numel } from '../dsl/shape.js';
import { KernelIO, UNIFORM_VEC4S } from './expr.js';
import { type FusionPlan, isUniformScalar, planFusion } from './fusion.js';
import { ATTENTION_VARIANTS, type AttentionVariant, attentionDims, attentionKernel } from './kernels/attention.js';
import type { KernelCode } from './kernels/common.js';
import { convKernel, convShape } from './kernels/conv2d.js';
import { elementwiseKernel } from './kernels/elementwise.js';
import { GEMM_VARIANTS, type GemmVariant } from './kernels/gemm.js';
import { matmulKernel, matmulShape } from './kernels/matmul.js';
import { reduceKernel, rowKernel } from './kernels/rows.js';
import { type BufferPlan, planMemory } from './memory.js';
import { type PrepareOptions, prepare } from './prepare.js';
import { ShapeError } from '../dsl/errors.js';

export type KernelFamily = 'elementwise' | 'row' | 'reduce' | 'matmul' | 'conv2d' | 'attention';

/** A kernel with its candidate variants; which one runs is the autotuner's (or the caller's) choice. */
export interface LoweredKernel {
  root: Tensor;
  anchor?: Tensor;
  family: KernelFamily;
  /** Autotuning cache key: the family and the sizes that decide speed. */
  signature: string;
  /** Arithmetic work, where the family's variants differ in speed (gemm families); 0 elsewhere. */
  flops: number;
  variants: readonly string[];
  generate(variant: string): KernelCode;
  reads: readonly Tensor[];
}

export interface Program {
  outputs: Tensor[];
  captures: Map<string, Tensor>;
  kernels: LoweredKernel[];
  inputs: Map<string, Tensor>;
  params: Map<string, Tensor>;
  constants: Tensor[];
  scalarSlots: Map<string, number>;
  memory: BufferPlan;
  fusion: FusionPlan;
}

export interface LowerOptions extends PrepareOptions {
  /** Restrict a family's variants (e.g. { matmul: ['naive'] } for a baseline). */
  variants?: Partial<Record<KernelFamily, readonly string[]>>;
}

/** Graph → kernels and a buffer plan: everything short of touching a device. */
export function lower(outputs: readonly Tensor[], o: LowerOptions = {}): Program {
  const prepared = prepare(outputs, o);
  const captured = [...prepared.captures.values()];
  const fusion = planFusion(prepared.outputs, captured);
  const { inputs, params } = sources(fusion.order);
  const scalarSlots = new Map<string, number>();
  for (const [name, t] of inputs) if (isUniformScalar(t)) scalarSlots.set(name, scalarSlots.size);
  if (scalarSlots.size > UNIFORM_VEC4S * 4) throw new ShapeError(`compile: ${scalarSlots.size} scalar inputs exceed the ${UNIFORM_VEC4S * 4} uniform slots`);
  const slot = (t: Tensor) => scalarSlots.get((t.op as { name: string }).name)!;

  const kernels = fusion.kernels.map(({ root, anchor }): LoweredKernel => {
    const io = () => new KernelIO(fusion.materialized, slot);
    const allow = (family: KernelFamily, all: readonly string[]) => {
      const want = o.variants?.[family];
      const v = want ? all.filter((x) => want.includes(x)) : all;
      return v.length ? v : all;
    };
    const k = match(anchor?.op.kind)
      .with(undefined, () => ({ family: 'elementwise' as const, signature: `ew:${numel(root.shape as ConcreteShape)}`, variants: ['flat'], gen: () => elementwiseKernel(io(), root) }))
      .with('softmax', 'layerNorm', 'groupNorm', () => ({ family: 'row' as const, signature: 'row', variants: ['row-wg64'], gen: () => rowKernel(io(), root, anchor!) }))
      .with('reduce', () => ({ family: 'reduce' as const, signature: 'reduce', variants: ['loop'], gen: () => reduceKernel(io(), root, anchor!) }))
      .with('attention', () => {
        const [b, nq, nk, d, dv] = attentionDims(anchor!);
        // Unrolling over the head dimension only makes sense for heads of moderate size.
        const variants = d <= 128 && dv <= 128 ? allow('attention', ATTENTION_VARIANTS) : ['online-row'];
        return { family: 'attention' as const, flops: 2 * b * nq * nk * (d + dv), signature: `attn:${b}x${nq}x${nk}x${d}x${dv}`, variants,
          gen: (v: string) => attentionKernel(io(), root, anchor!, v as AttentionVariant) };
      })
      .with('matmul', () => {
        const g = matmulShape(anchor!);
        return { family: 'matmul' as const, flops: 2 * g.batch * g.m * g.n * g.k, signature: `gemm:${g.batch}x${g.m}x${g.n}x${g.k}`, variants: allow('matmul', GEMM_VARIANTS),
          gen: (v: string) => matmulKernel(io(), root, anchor!, v as GemmVariant) };
      })
      .with('conv2d', () => {
        const g = convShape(anchor!);
        const grouped = (anchor!.op as { groups: number }).groups > 1;
        return { family: 'conv2d' as const, flops: 2 * g.batch * g.m * g.n * g.k, signature: `conv:${g.batch}x${g.m}x${g.n}x${g.k}`, variants: grouped ? ['naive'] : allow('conv2d', GEMM_VARIANTS),
          gen: (v: string) => convKernel(io(), root, anchor!, v as GemmVariant) };
      })
      .otherwise((kind) => {
        throw new Error(`internal: no kernel family for ${kind}`);
      });
    const first = k.gen(k.variants[0]);
    return { root, anchor, family: k.family, flops: 'flops' in k ? k.flops : 0, signature: k.signature, variants: k.variants, generate: k.gen, reads: first.io.reads };
  });

  const constants = fusion.order.filter((t) => t.op.kind === 'constant' && fusion.materialized.has(t));
  const dedicated = [
    ...[...inputs.values()].filter((t) => !isUniformScalar(t)),
    ...params.values(),
    ...constants,
    ...prepared.outputs.filter((t) => fusion.materialized.has(t)),
    ...captured,
  ];
  const memory = planMemory(kernels, dedicated, (t) => Math.max(4, numel(t.shape as ConcreteShape) * 4));
  return { outputs: prepared.outputs, captures: prepared.captures, kernels, inputs, params, constants, scalarSlots, memory, fusion };
}
