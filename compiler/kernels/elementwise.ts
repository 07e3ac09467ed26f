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
  const i32 = root.dtype === 'i32';
  const fn = valueFn(io, 'value', root, names.map((n) => `${n}: u32`), names);
  const main = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * ${gx}u) * ${WG}u + lid.x;
  if (i >= ${total}u) { return; }
  ${unflatten(shape, 'i', names)}
  out0[i] = ${i32 ? `i32(value(${names.join(', ')}))` : `value(${names.join(', ')})`};
}`;
  // An i32 tensor (cast, or ids moved by reshape/slice/concat…) is stored as i32, as loads and read-back expect.
  return { label: `elementwise ${root}`, variant: 'flat', code: assemble(io, [fn, main], i32 ? 'i32' : 'f32'), workgroups: [gx, gy, 1], io };
}
