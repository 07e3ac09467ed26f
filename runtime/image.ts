import { encode } from 'fast-png';
import { KilnError } from '../dsl/errors.js';
import { writeFileAtomic } from './files.js';

/** An 8-bit image, interleaved channels (3 = RGB, 4 = RGBA). */
export interface Image {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

export class ImageError extends KilnError {}

/** Floats in [0, 1], interleaved (HWC), to 8-bit with rounding and clamping. */
export function imageFromUnit(data: ArrayLike<number>, width: number, height: number, channels: 3 | 4 = 3): Image {
  if (data.length !== width * height * channels) {
    throw new ImageError(`image ${width}×${height}×${channels} needs ${width * height * channels} values, found ${data.length}`);
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, data[i])) * 255);
  return { width, height, channels, data: out };
}

/** PNG bytes; `text` becomes tEXt chunks (generation parameters). */
export function encodePng(img: Image, text: Record<string, string> = {}): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8, text });
}

/** Write a PNG whole or not at all. */
export function savePng(path: string, img: Image, text: Record<string, string> = {}): void {
  writeFileAtomic(path, encodePng(img, text));
}

/** Lay images out in a grid (row-major), e.g. a batch or an attention-map sheet. */
export function imageGrid(images: readonly Image[], columns = Math.ceil(Math.sqrt(images.length)), gap = 2): Image {
  if (images.length === 0) throw new ImageError('imageGrid: no images');
  const { width: w, height: h, channels: c } = images[0];
  if (images.some((i) => i.width !== w || i.height !== h || i.channels !== c)) throw new ImageError('imageGrid: images differ in size or channels');
  const rows = Math.ceil(images.length / columns);
  const W = columns * w + (columns - 1) * gap, H = rows * h + (rows - 1) * gap;
  const data = new Uint8Array(W * H * c).fill(255);
  images.forEach((img, k) => {
    const ox = (k % columns) * (w + gap), oy = Math.floor(k / columns) * (h + gap);
    for (let y = 0; y < h; y++) data.set(img.data.subarray(y * w * c, (y + 1) * w * c), ((oy + y) * W + ox) * c);
  });
  return { width: W, height: H, channels: c, data };
}
