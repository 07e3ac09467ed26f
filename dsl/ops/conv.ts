import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor } from '../node.js';
import { fmtShape } from '../shape.js';

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

const pair = (v: number | readonly [number, number]): readonly [number, number] => (typeof v === 'number' ? [v, v] : v);

/** conv2d over NCHW with OIHW weights, like torch.nn.functional.conv2d. */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor, o: Conv2dOptions = {}): Tensor {
  const stride = pair(o.stride ?? 1), padding = pair(o.padding ?? 0), dilation = pair(o.dilation ?? 1);
  const groups = o.groups ?? 1;
  const what = () => `conv2d(x: ${fmtShape(x.shape)}, w: ${fmtShape(w.shape)})`;
  if (x.rank !== 4) throw new ShapeError(`${what()}: x must be [N, C, H, W]`);
  if (w.rank !== 4) throw new ShapeError(`${what()}: w must be [Cout, Cin/groups, kH, kW]`);
  if ([...stride, ...dilation].some((v) => !Number.isInteger(v) || v < 1) || padding.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ArgumentError(`${what()}: stride/dilation must be ≥ 1 and padding ≥ 0 integers`);
  }
  const [, cin, h, wd] = x.shape;
  const [cout, cpg, kh, kw] = w.shape as number[];
  if (typeof cin !== 'number' || typeof h !== 'number' || typeof wd !== 'number') {
    throw new ShapeError(`${what()}: channels and spatial dims must be concrete`);
  }
  if (!Number.isInteger(groups) || groups < 1 || cin % groups !== 0 || cout % groups !== 0) {
    throw new ShapeError(`${what()}: groups ${groups} must divide in-channels ${cin} and out-channels ${cout}`);
  }
  if (cin / groups !== cpg) throw new ShapeError(`${what()}: in-channels ${cin}/${groups} ≠ ${cpg}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new ShapeError(`${what()}: bias ${fmtShape(bias.shape)} must be [${cout}]`);
  const oh = Math.floor((h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`${what()}: the kernel does not fit the padded input`);
  return Tensor.make({ kind: 'conv2d', x, w, bias, stride, padding, dilation, groups }, [x.shape[0], cout, oh, ow], x.dtype);
}
