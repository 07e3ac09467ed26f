// Pixel analysis of a kiln-shapes image: the object's dominant colour, the 3×3 region of its
// centroid and a rough shape class. A line-by-line mirror of tools/train/analyze.py; both read
// the same tools/train/dataset-spec.json (its `analysis` block holds every threshold).
import { readFileSync } from 'node:fs';

export interface ShapesSpec {
  readonly colours: readonly { readonly name: string; readonly rgb: readonly [number, number, number] }[];
  readonly shapes: readonly { readonly name: string }[];
  readonly sizes: readonly { readonly name: string }[];
  readonly positions: {
    readonly grid: readonly [number, number];
    readonly regions: readonly { readonly name: string; readonly row: number; readonly col: number; readonly phrases: readonly string[] }[];
  };
  /** Colour × shape × position combinations never shown together in training. */
  readonly held_out: readonly (readonly [string, string, string])[];
  readonly analysis: {
    readonly border_px: number;
    readonly min_object_distance: number;
    readonly mask_fraction_of_max: number;
    readonly core_fraction_of_max: number;
    readonly triangle_top_bottom_ratio_max: number;
    readonly square_fill_min: number;
    readonly circle_fill_min: number;
    readonly cross_bar_fraction_min: number;
  };
}

export interface ShapesAnalysis {
  /** Spec colour nearest to the mean of the object's core pixels; null when no object stands out. */
  readonly colour: string | null;
  /** Name of the 3×3 region holding the object mask's centroid. */
  readonly position: string | null;
  /** 'circle' | 'square' | 'triangle' | 'star' | 'cross' from bounding-box features. */
  readonly shape: string | null;
  readonly features?: { readonly fill: number; readonly tb: number; readonly bars: number; readonly dmax: number };
}

export const SHAPES_SPEC_URL = new URL('../../tools/train/dataset-spec.json', import.meta.url);

export function loadShapesSpec(path: string | URL = SHAPES_SPEC_URL): ShapesSpec {
  return JSON.parse(readFileSync(path, 'utf8')) as ShapesSpec;
}

/** numpy.median of a list. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** numpy.percentile(v, q) with the default linear interpolation. */
function percentile(v: Float64Array, q: number): number {
  const s = Float64Array.from(v).sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Analyse one image. `rgb` is interleaved HWC, 3 (or 4, alpha ignored) channels: a Uint8Array in
 * 0..255 or a Float32Array in [0, 1].
 */
export function analyzeShapes(rgb: Uint8Array | Float32Array, width: number, height: number, spec: ShapesSpec): ShapesAnalysis {
  const ch = rgb.length / (width * height);
  if (ch !== 3 && ch !== 4) throw new Error(`analyzeShapes: expected ${width}×${height}×3 or ×4 values, got ${rgb.length}`);
  const scale = rgb instanceof Float32Array ? 255 : 1;
  const W = width, H = height, N = W * H;
  const px = (i: number, c: number) => rgb[i * ch + c]! * scale;
  const a = spec.analysis;
  const b = a.border_px;
  // border frame in the same order as the Python (top rows, bottom rows, left cols, right cols)
  const border: number[] = [];
  for (let y = 0; y < b; y++) for (let x = 0; x < W; x++) border.push(y * W + x);
  for (let y = H - b; y < H; y++) for (let x = 0; x < W; x++) border.push(y * W + x);
  for (let y = 0; y < H; y++) for (let x = 0; x < b; x++) border.push(y * W + x);
  for (let y = 0; y < H; y++) for (let x = W - b; x < W; x++) border.push(y * W + x);
  const bg = [0, 1, 2].map((c) => median(border.map((i) => px(i, c))));
  const d = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const r = px(i, 0) - bg[0]!, g = px(i, 1) - bg[1]!, bl = px(i, 2) - bg[2]!;
    d[i] = Math.sqrt(r * r + g * g + bl * bl);
  }
  const dmax = percentile(d, 99);
  if (dmax < a.min_object_distance) return { colour: null, position: null, shape: null };
  const mth = a.mask_fraction_of_max * dmax, cth = a.core_fraction_of_max * dmax;
  const mean = [0, 0, 0];
  let nCore = 0, area = 0, sx = 0, sy = 0;
  let x0 = W, x1 = -1, y0 = H, y1 = -1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = y * W + x;
    if (d[i]! >= cth) { for (let c = 0; c < 3; c++) mean[c]! += px(i, c); nCore++; }
    if (d[i]! >= mth) {
      area++; sx += x; sy += y;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  }
  for (let c = 0; c < 3; c++) mean[c] = mean[c]! / nCore;
  let best = 0, bestD = Infinity;
  spec.colours.forEach((col, k) => {
    const dd = Math.sqrt(col.rgb.reduce((s, v, c) => s + (mean[c]! - v) ** 2, 0));
    if (dd < bestD) { bestD = dd; best = k; }
  });
  const colour = spec.colours[best]!.name;
  const cy = sy / area + 0.5, cx = sx / area + 0.5;
  const [gr, gc] = spec.positions.grid;
  const row = Math.min(gr - 1, Math.floor((cy * gr) / H));
  const col = Math.min(gc - 1, Math.floor((cx * gc) / W));
  const position = spec.positions.regions.find((r) => r.row === row && r.col === col)?.name ?? null;
  x1 += 1; y1 += 1;
  const bw = x1 - x0, bh = y1 - y0;
  const fill = area / (bw * bh);
  const mid = (y0 + y1) / 2;
  let top = 0, bot = 0, fullRows = 0, fullCols = 0;
  const colH = new Array<number>(bw).fill(0);
  for (let y = y0; y < y1; y++) {
    let rowW = 0;
    for (let x = x0; x < x1; x++) {
      if (d[y * W + x]! >= mth) {
        rowW++; colH[x - x0]!++;
        if (y + 0.5 < mid) top++; else if (y + 0.5 > mid) bot++;
      }
    }
    if (rowW >= 0.85 * bw) fullRows++;
  }
  for (const h of colH) if (h >= 0.85 * bh) fullCols++;
  const tb = top / Math.max(bot, 1);
  const bars = 0.5 * (fullRows / bh + fullCols / bw);
  let shape: string;
  if (tb < a.triangle_top_bottom_ratio_max) shape = 'triangle';
  else if (fill >= a.square_fill_min) shape = 'square';
  else if (fill >= a.circle_fill_min) shape = 'circle';
  else if (bars >= a.cross_bar_fraction_min) shape = 'cross';
  else shape = 'star';
  return { colour, position, shape, features: { fill, tb, bars, dmax } };
}
