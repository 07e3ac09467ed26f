// UNet2DConditionModel through the float64 evaluator reproduces diffusers (unet-sd15-tiny golden case):
// the output, the time embedding, every per-block hidden state and skip, and the captured cross-attention map.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { input, instantiate } from '../../dsl/index.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { evaluateWithCaptures, goldenModel, relL2 } from '../support/golden.js';

const PROBE = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2';

test('unet-sd15-tiny: output, named intermediates and the attn2 probability map match diffusers (rel-L2 < 1e-5)', async () => {
  const { def, weights, io } = await goldenModel('unet-sd15-tiny', 'unet', unetConfig, unet2DConditionModel);
  const [sample, timesteps, ctx] = ['sample', 'timesteps', 'encoder_hidden_states'].map((n) => io.get(n)!);
  const out = instantiate(def)(input('sample', sample.shape), input('timesteps', timesteps.shape), input('encoder_hidden_states', ctx.shape));
  // golden name → our capture name
  const intermediates = [...io.keys()].filter((k) => io.get(k) && !['sample', 'timesteps', 'encoder_hidden_states', 'out'].includes(k));
  const ours = (k: string) => k.replace(/^attn_probs\.(.+)$/, '$1.probs').replace(/^attn_in\.(.+)$/, '$1.in').replace(/^attn_out\.(.+)$/, '$1.out');
  const { outputs, captured } = evaluateWithCaptures([out], intermediates.map(ours),
    { ...Object.fromEntries(weights), sample: sample.data, timesteps: timesteps.data, encoder_hidden_states: ctx.data });
  const errors: string[] = [];
  for (const [name, value] of [['out', outputs[0]] as const, ...intermediates.map((k) => [k, captured.get(ours(k))!] as const)]) {
    const err = relL2(value, io.get(name)!.data);
    if (!(err < 1e-5)) errors.push(`${name}: rel-L2 ${err.toExponential(2)}`);
  }
  assert.ok(intermediates.includes(`attn_probs.${PROBE}`) && intermediates.includes('time_embedding'));
  assert.deepEqual(errors, []);
});
