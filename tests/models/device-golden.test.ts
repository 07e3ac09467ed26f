// The compiled WGSL models on Dawn reproduce diffusers/transformers (golden cases) within float32 tolerance:
// the same graphs the evaluator checks, now through fusion, memory planning and the kernel families.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { input, instantiate } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../../models/clip/index.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';
import { compile } from '../../runtime/compile.js';
import { goldenModel, relL2 } from '../support/golden.js';
import { emptyCache, openTestDevice } from '../support/gpu.js';

const dev = await openTestDevice();
const TOL = 1e-5;

test('unet-sd15-tiny on the device: output and the captured cross-attention probabilities match diffusers', async () => {
  const { def, weights, io } = await goldenModel('unet-sd15-tiny', 'unet', unetConfig, unet2DConditionModel);
  const [sample, timesteps, ctx] = ['sample', 'timesteps', 'encoder_hidden_states'].map((n) => io.get(n)!);
  const out = instantiate(def)(input('sample', sample.shape), input('timesteps', timesteps.shape), input('encoder_hidden_states', ctx.shape));
  const probe = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2';
  const exe = await compile(dev, [out], { weights, captures: [`${probe}.probs`, 'time_embedding'], autotune: false, cache: emptyCache() });
  const r = await exe.run({ sample: Float32Array.from(sample.data), timesteps: Float32Array.from(timesteps.data), encoder_hidden_states: Float32Array.from(ctx.data) });
  assert.ok(relL2(r.outputs[0], io.get('out')!.data) < TOL, `out: ${relL2(r.outputs[0], io.get('out')!.data)}`);
  assert.ok(relL2(r.captures.get('time_embedding')!, io.get('time_embedding')!.data) < TOL);
  assert.ok(relL2(r.captures.get(`${probe}.probs`)!, io.get(`attn_probs.${probe}`)!.data) < TOL);
  exe.destroy();
});

test('vae-tiny on the device: decode and encode match diffusers', async () => {
  const { def, weights, io } = await goldenModel('vae-tiny', 'vae', vaeConfig, autoencoderKL);
  const latent = io.get('latent')!, image = io.get('image')!;
  const vae = instantiate(def)();
  const { mean, logvar } = vae.encode(input('image', image.shape));
  const exe = await compile(dev, [vae.decode(input('latent', latent.shape)), mean, logvar], { weights, autotune: false, cache: emptyCache() });
  const r = await exe.run({ latent: Float32Array.from(latent.data), image: Float32Array.from(image.data) });
  for (const [i, name] of ['decode.sample', 'encode.mean', 'encode.logvar'].entries()) {
    const err = relL2(r.outputs[i], io.get(name)!.data);
    assert.ok(err < TOL, `${name}: rel-L2 ${err}`);
  }
  exe.destroy();
});

test('clip-tiny on the device: last_hidden_state and pooled output match transformers', async () => {
  const { def, weights, io } = await goldenModel('clip-tiny', 'text_encoder', clipTextConfig, clipTextModel);
  const ids = io.get('input_ids')!;
  const out = instantiate(def)(input('input_ids', ids.shape, 'i32'));
  const exe = await compile(dev, [out.last_hidden_state, out.pooler_output], { weights, autotune: false, cache: emptyCache() });
  const r = await exe.run({ input_ids: ids.data });
  assert.ok(relL2(r.outputs[0], io.get('last_hidden_state')!.data) < TOL);
  assert.ok(relL2(r.outputs[1], io.get('pooler_output')!.data) < TOL);
  exe.destroy();
});
