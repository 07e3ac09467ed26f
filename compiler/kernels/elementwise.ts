import type { Tensor } from '../../dsl/node.js';
import { type ConcreteShape, numel } from '../../dsl/shape.js';
import { type KernelCode, KernelIO, assemble, coordNames, grid, unflatten, valueFn } from './common.js';

const WG = 64;

/** Any chain of pointwise and data-movement ops ending in `root`: one thread per output element. */
export function elementwiseKernel(io: KernelIO, root: Tensor): KernelCode {
  const shape = root.shape as ConcreteShape;
  const total = numel(shape);
  const groups = Math.ceil(total / WG);
  const [gx, gy] = grid(groups);
  const names = coordNames('c', shape.length);
  const fn = valueFn(io, 'value', root, names.map((n) => `${n}: u32`), names);
  const main = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * ${gx}u) * ${WG}u + lid.x;
  if (i >= ${total}u) { return; }
  ${unflatten(shape, 'i', names)}
  out0[i] = value(${names.join(', ')});
}`;
  return { label: `elementwise ${root}`, variant: 'flat', code: assemble(io, [fn, main]), workgroups: [gx, gy, 1], io };
}
