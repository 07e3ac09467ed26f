// Golden-case helpers: the shared folder, io.safetensors, det() inputs, rel-L2, and captures via the evaluator.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Feeds, type Tensor, attentionProbs, evaluate, reshape, topoOrder } from '../../dsl/index.js';

/** The shared golden data: $KILN_GOLDEN, else ../shared/golden beside the repository (where CI puts it). */
export const GOLDEN = process.env.KILN_GOLDEN ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'golden');
export const goldenPath = (...parts: string[]) => join(GOLDEN, ...parts);

export interface IoTensor { readonly shape: number[]; readonly data: Float64Array }

/** A golden io.safetensors (F32 / I64 only), every tensor as float64. Minimal on purpose: test data, not a loader. */
export function readIo(caseName: string, file = 'io.safetensors'): Map<string, IoTensor> {
  const buf = readFileSync(goldenPath(caseName, file));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, IoTensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = h.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = h.shape.reduce((x, y) => x * y, 1);
    const data = new Float64Array(count);
    if (h.dtype === 'F32') for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
    else if (h.dtype === 'I64') for (let i = 0; i < count; i++) data[i] = Number(dv.getBigInt64(8 * i, true));
    else throw new Error(`readIo: ${name} has dtype ${h.dtype}; only F32 and I64 are expected in golden io files`);
    out.set(name, { shape: h.shape, data });
  }
  return out;
}

/** det(shape, phase, scale): scale·sin(0.1·i + phase) over the flat index, rounded to float32. */
export function det(shape: readonly number[], phase = 0, scale = 1): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float64Array.from({ length: n }, (_, i) => Math.fround(scale * Math.sin(0.1 * i + phase)));
}

/** ‖ours − golden‖₂ / ‖golden‖₂ in float64. */
export function relL2(ours: ArrayLike<number>, golden: ArrayLike<number>): number {
  if (ours.length !== golden.length) throw new Error(`relL2: lengths differ (${ours.length} vs ${golden.length})`);
  let num = 0, den = 0;
  for (let i = 0; i < golden.length; i++) {
    num += (ours[i] - golden[i]) ** 2;
    den += golden[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * Evaluate outputs plus named captures in one pass: a capture is a `tag` name, or an attention's `probsName`
 * (its probabilities, rebuilt as explicit ops from the attention node's own q, k, scale and mask, laid out
 * [batch·heads, Nq, Nk] like diffusers' get_attention_scores).
 */
export function evaluateWithCaptures(outputs: readonly Tensor[], captures: readonly string[], feeds: Feeds): { outputs: Float64Array[]; captured: Map<string, Float64Array> } {
  const found = new Map<string, Tensor>();
  for (const t of topoOrder(outputs)) {
    if (t.op.kind === 'tag' && captures.includes(t.op.name)) found.set(t.op.name, t);
    if (t.op.kind === 'attention' && t.op.probsName && captures.includes(t.op.probsName)) {
      const probs = attentionProbs(t.op.q, t.op.k, t.op.scale, t.op.mask);
      found.set(t.op.probsName, reshape(probs, [-1, ...probs.shape.slice(-2)]));
    }
  }
  const missing = captures.filter((c) => !found.has(c));
  if (missing.length) throw new Error(`evaluateWithCaptures: no tag or attention probsName in the graph for: ${missing.join(', ')}`);
  const vals = evaluate([...outputs, ...captures.map((c) => found.get(c)!)], feeds);
  return { outputs: vals.slice(0, outputs.length), captured: new Map(captures.map((c, i) => [c, vals[outputs.length + i]])) };
}
