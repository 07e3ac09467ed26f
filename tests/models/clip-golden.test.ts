// CLIPTextModel through the float64 evaluator reproduces transformers' outputs (clip-tiny golden case).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, input, instantiate, layerNorm, param } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel, pooledPosition } from '../../models/clip/index.js';
import { evaluateWithCaptures, goldenModel, relL2 } from '../support/golden.js';

test('clip-tiny: every hidden state, last_hidden_state and the legacy argmax pooled output match transformers (rel-L2 < 1e-5)', async () => {
  const { def, weights, io } = await goldenModel('clip-tiny', 'text_encoder', clipTextConfig, clipTextModel);
  const ids = io.get('input_ids')!;
  const out = instantiate(def)(input('input_ids', ids.shape, 'i32'));
  const names = out.hidden_states.map((_, i) => `hidden_states.${i}`);
  const { outputs, captured } = evaluateWithCaptures([out.last_hidden_state, out.pooler_output], names,
    { ...Object.fromEntries(weights), input_ids: ids.data });
  const check = (name: string, ours: Float64Array) => {
    const err = relL2(ours, io.get(name)!.data);
    assert.ok(err < 1e-5, `${name}: rel-L2 ${err.toExponential(2)}`);
  };
  check('last_hidden_state', outputs[0]);
  check('pooler_output', outputs[1]);
  for (const n of names) check(n, captured.get(n)!);
});

test('clipSkip k conditions on final_layer_norm(hidden_states[-(k+1)]), as diffusers does', async () => {
  const { config, weights, io } = await goldenModel('clip-tiny', 'text_encoder', clipTextConfig, clipTextModel);
  const ids = io.get('input_ids')!;
  const skip1 = instantiate(clipTextModel(config, { clipSkip: 1 }))(input('input_ids', ids.shape, 'i32'));
  const h2 = input('h2', [2, 77, 32]);
  const ln = layerNorm(h2, param('text_model.final_layer_norm.weight', [32]), param('text_model.final_layer_norm.bias', [32]), config.layer_norm_eps);
  const [ours, fromGolden] = evaluate([skip1.conditioning, ln], { ...Object.fromEntries(weights), input_ids: ids.data, h2: io.get('hidden_states.2')!.data });
  assert.ok(relL2(ours, fromGolden) < 1e-6);
  assert.ok(relL2(ours, io.get('last_hidden_state')!.data) > 1e-2);
});

test('pooling: eos_token_id 2 takes the first largest id (legacy argmax); any other eos id takes its first occurrence', () => {
  const rows = [[0, 17, 250, 999, 42, 2, 2, 999], [0, 5, 6, 7, 2, 2, 2, 2], [0, 5, 9, 7, 9, 3, 3, 3]];
  const ids = input('ids', [3, 8], 'i32');
  const [legacy, eos3, eos9] = evaluate([pooledPosition(ids, 2), pooledPosition(ids, 3), pooledPosition(ids, 9)], { ids: rows.flat() });
  const at = (oneHot: Float64Array) => [0, 1, 2].map((r) => Array.from(oneHot.subarray(8 * r, 8 * r + 8)).indexOf(1));
  const count = (oneHot: Float64Array) => oneHot.reduce((a, b) => a + b, 0);
  assert.deepEqual(at(legacy), [3, 3, 2]);
  assert.deepEqual(at(eos3), [0, 0, 5]);                 // no eos in a row → position 0, like argmax over all-false
  assert.deepEqual(at(eos9), [0, 0, 2]);
  assert.ok([legacy, eos3, eos9].every((o) => count(o) === 3));
});
