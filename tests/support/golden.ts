// Golden-case helpers: the shared folder, io.safetensors, golden model components, det() inputs, rel-L2, and captures via the evaluator.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Feeds, type Spec, type Tensor, attentionProbs, evaluate, reshape, topoOrder } from '../../dsl/index.js';
import type { Json } from '../../models/configs/index.js';
import { loadDiffusersComponent, readComponentConfig } from '../../models/weights/index.js';
import { withSafetensors } from '../../runtime/safetensors/index.js';

/** The shared golden data: $KILN_GOLDEN, else ../shared/golden beside the repository (where CI puts it). */
export const GOLDEN = process.env.KILN_GOLDEN ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'golden');
export const goldenPath = (...parts: string[]) => join(GOLDEN, ...parts);

export interface IoTensor { readonly shape: number[]; readonly data: Float64Array }

/**
 * A golden io.safetensors through the runtime reader, every tensor widened to float64 (I64 via Number: golden
 * integers are small). Golden files hold F32, F64 and I64 only; any other dtype is a broken fixture.
 */
export function readIo(caseName: string, file = 'io.safetensors'): Promise<Map<string, IoTensor>> {
  return withSafetensors(goldenPath(caseName, file), async (st) => {
    const out = new Map<string, IoTensor>();
    for (const name of st.names) {
      const t = await st.readTyped(name);
      if (t.dtype !== 'F32' && t.dtype !== 'F64' && t.dtype !== 'I64') throw new Error(`readIo: ${name} has dtype ${t.dtype}; only F32, F64 and I64 are expected in golden io files`);
      out.set(name, { shape: [...t.shape], data: Float64Array.from(t.data, Number) });
    }
    return out;
  });
}

/** A golden case's model component: its parsed config, module definition, diffusers weights and io tensors. */
export async function goldenModel<C, D extends Spec>(caseName: string, component: string, configOf: (json: Json) => C, defOf: (config: C) => D) {
  const config = configOf(await readComponentConfig(goldenPath(caseName), component));
  const def = defOf(config);
  const weights = await loadDiffusersComponent(goldenPath(caseName, component), def);
  return { config, def, weights, io: await readIo(caseName) };
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
