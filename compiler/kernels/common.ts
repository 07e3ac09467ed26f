import type { Tensor } from '../../dsl/node.js';
import type { ConcreteShape } from '../../dsl/shape.js';
import { KernelIO, Scope } from '../expr.js';
import { PRELUDE, u32 } from '../wgsl.js';

/** A generated compute kernel: WGSL text, how many workgroups to dispatch, and what it reads. */
export interface KernelCode {
  label: string;
  variant: string;
  code: string;
  workgroups: [number, number, number];
  io: KernelIO;
}

export const MAX_GROUPS = 65535;

/** Split a workgroup count over x and y so neither exceeds the per-dimension limit. */
export function grid(groups: number): [number, number, number] {
  if (groups <= MAX_GROUPS) return [Math.max(groups, 1), 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL statements that split a flat u32 index into named coordinates of `shape`. */
export function unflatten(shape: ConcreteShape, flat: string, names: string[]): string {
  const lines: string[] = [];
  let rest = flat;
  for (let a = shape.length - 1; a >= 0; a--) {
    if (a === 0) lines.push(`let ${names[a]} = ${rest};`);
    else {
      lines.push(`let ${names[a]} = ${rest} % ${u32(shape[a])};`);
      if (a > 0) {
        lines.push(`let ${names[a]}_r = ${rest} / ${u32(shape[a])};`);
        rest = `${names[a]}_r`;
      }
    }
  }
  return lines.join('\n  ');
}

export const coordNames = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A WGSL function returning `t`'s value at its coordinates, the whole pointwise chain inlined. */
export function valueFn(io: KernelIO, name: string, t: Tensor, params: string[], idx: string[], acc?: { node: Tensor; value: string }): string {
  const s = new Scope(io, acc, t);
  const v = s.value(t, idx);
  return `fn ${name}(${params.join(', ')}) -> f32 {\n${s.body()}\n  return ${v};\n}`;
}

/** The epilogue of an anchor kernel: root's value with the anchor's result given as `acc`. */
export function epilogueFn(io: KernelIO, root: Tensor, anchor: Tensor): string {
  const names = coordNames('c', root.rank);
  return valueFn(io, 'epilogue', root, ['acc: f32', ...names.map((n) => `${n}: u32`)], names, { node: anchor, value: 'acc' });
}

export function assemble(io: KernelIO, parts: string[], outType = 'f32'): string {
  return [io.declarations(outType), PRELUDE, ...parts].join('\n');
}

export const flatIndexParams = (n: number, prefix = 'c') => coordNames(prefix, n).map((x) => `${x}: u32`);

export { KernelIO, Scope };
