// Attention variants are config data applied at graph build: entropy-aware scaling and K-/V-only token substitution.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Feeds, type Tensor, input, instantiate, topoOrder } from '../../dsl/index.js';
import { type AttentionOverrides, SUBSTITUTE_INPUT, unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { loadDiffusersComponent, readComponentConfig } from '../../models/weights/index.js';
import { det, evaluateWithCaptures, goldenPath, relL2 } from '../support/golden.js';

const config = unetConfig(await readComponentConfig(goldenPath('unet-sd15-tiny'), 'unet'));   // sample_size 16, 2 levels
const weights = Object.fromEntries(await loadDiffusersComponent(goldenPath('unet-sd15-tiny', 'unet'), unet2DConditionModel(config)));
const FIRST = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2';

const build = (size: number, attention?: AttentionOverrides) =>
  instantiate(unet2DConditionModel(config, { attention }))(
    input('sample', [1, 4, size, size]), input('timesteps', [1]), input('encoder_hidden_states', [1, 8, 32]));
const scales = (out: Tensor) => new Map(topoOrder([out]).flatMap((t) => (t.op.kind === 'attention' ? [[t.op.probsName!, t.op.scale] as const] : [])));
const feeds = (size: number, ctx: Float64Array, sub?: Float64Array): Feeds => ({
  ...weights, sample: det([1, 4, size, size], 0.2), timesteps: [500], encoder_hidden_states: ctx, ...(sub ? { [SUBSTITUTE_INPUT]: sub } : {}),
});
const run = (out: Tensor, f: Feeds) => {
  const r = evaluateWithCaptures([out], [`${FIRST}.probs`], f);
  return { out: r.outputs[0], probs: r.captured.get(`${FIRST}.probs`)! };
};
const ctxA = det([1, 8, 32], 1), ctxB = det([1, 8, 32], 2.5, 0.8);

test('entropy-aware scaling at the training resolution builds the very same graph as the default 1/√d', () => {
  assert.equal(build(16, { scale: 'entropy-aware' }), build(16));
});

test('entropy-aware scaling at 8×8 multiplies each self-attention scale by √(ln N / ln T), leaves cross-attention alone', () => {
  const def = scales(build(8)), ea = scales(build(8, { scale: 'entropy-aware' }));
  assert.equal(ea.size, 8);   // 4 transformers × (attn1, attn2)
  for (const [name, s] of ea) {
    const level = name.startsWith('down_blocks.0') || name.startsWith('up_blocks.1') ? 0 : 1;
    const N = (8 >> level) ** 2, T = (16 >> level) ** 2;
    const want = name.includes('.attn1.') ? Math.sqrt(Math.log(N) / Math.log(T)) * def.get(name)! : def.get(name)!;
    assert.ok(Math.abs(s - want) < 1e-15, `${name}: ${s} vs ${want}`);
  }
  assert.ok(Math.abs(ea.get('mid_block.attentions.0.transformer_blocks.0.attn1.probs')! - Math.sqrt(Math.log(16) / Math.log(64)) / Math.sqrt(8)) < 1e-15);
});

test('entropy-aware scaling equals the same per-layer numbers given as a map, and changes the 8×8 output', () => {
  const ea = scales(build(8, { scale: 'entropy-aware' }));
  const layers = Object.fromEntries([...ea].map(([k, s]) => [k.replace(/\.probs$/, ''), s]));
  assert.equal(build(8, { scale: { layers } }), build(8, { scale: 'entropy-aware' }));
  const a = evaluateWithCaptures([build(8)], [], feeds(8, ctxA)).outputs[0];
  const b = evaluateWithCaptures([build(8, { scale: 'entropy-aware' })], [], feeds(8, ctxA)).outputs[0];
  assert.ok(relL2(b, a) > 1e-4);
});

test('overrides that name a layer the model does not have are an error, not a silent no-op', () => {
  assert.throws(() => build(16, { scale: { layers: { 'down_blocks.0.attentions.9.transformer_blocks.0.attn1': 1 } } }), /attentions\.9/);
  assert.throws(() => build(16, { substitute: [{ layers: ['down_blocks.0.attentions.0.transformer_blocks.0.attn1'], positions: [1], in: 'k' }] }), /substitute layer/);
});

test('token substitution: V-only with identical rows is a no-op; all positions in K and V equals the other conditioning', () => {
  const base = run(build(16), feeds(16, ctxA));
  const other = run(build(16), feeds(16, ctxB));
  const vSame = run(build(16, { substitute: [{ layers: 'all', positions: [1, 2, 5], in: 'v' }] }), feeds(16, ctxA, ctxA));
  assert.ok(relL2(vSame.out, base.out) < 1e-14);
  const all = run(build(16, { substitute: [{ layers: 'all', positions: [0, 1, 2, 3, 4, 5, 6, 7], in: 'kv' }] }), feeds(16, ctxA, ctxB));
  assert.ok(relL2(all.out, other.out) < 1e-14);
  assert.ok(relL2(other.out, base.out) > 1e-3);

  // In the first cross-attention: K-only substitution moves the probabilities exactly to the other conditioning's,
  // V-only substitution keeps the probabilities and changes only the output.
  const at = (inWhich: 'k' | 'v') => run(build(16, { substitute: [{ layers: [FIRST], positions: [0, 1, 2, 3, 4, 5, 6, 7], in: inWhich }] }), feeds(16, ctxA, ctxB));
  const k = at('k'), v = at('v');
  assert.ok(relL2(k.probs, other.probs) < 1e-14 && relL2(k.probs, base.probs) > 1e-3);
  assert.ok(relL2(v.probs, base.probs) < 1e-14 && relL2(v.out, base.out) > 1e-4);
  assert.ok(relL2(k.out, base.out) > 1e-4 && relL2(k.out, other.out) > 1e-4);
});
