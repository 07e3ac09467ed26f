import { ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { fmtShape } from '../shape.js';

/** Embedding lookup: table [V, D], integer ids [...] → [..., D]. Out-of-range ids read 0. */
export function gather(table: Tensor, ids: Tensor): Tensor {
  if (table.rank !== 2) throw new ShapeError(`gather(table: ${fmtShape(table.shape)}, ids: ${fmtShape(ids.shape)}): table must be [V, D]`);
  if (ids.dtype !== 'i32') throw new ShapeError(`gather(table: ${fmtShape(table.shape)}, ids: ${fmtShape(ids.shape)}): ids must be i32, found ${ids.dtype}`);
  return Tensor.make({ kind: 'gather', table, ids }, [...ids.shape, table.shape[1]], table.dtype);
}
