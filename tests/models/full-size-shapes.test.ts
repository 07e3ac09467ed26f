// Full-size SD 1.5 and SD 2.1 graphs build from their configs (no weight values) with the right shapes and parameter counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Tensor, input, instantiate, parameterCount, topoOrder } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../../models/clip/index.js';
import { SD15_TEXT_ENCODER, SD15_UNET, SD15_VAE } from '../../models/configs/sd15.js';
import { SD21_TEXT_ENCODER, SD21_UNET, SD21_VAE } from '../../models/configs/sd21.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';

const attentionHeads = (out: Tensor) => topoOrder([out]).filter((t) => t.op.kind === 'attention' && t.op.probsName?.endsWith('attn2.probs'));

test('SD 1.5: UNet 859,520,964, CLIP ViT-L/14 text encoder 123,060,480, VAE 83,653,863 parameters (diffusers figures)', () => {
  assert.equal(parameterCount(unet2DConditionModel(unetConfig(SD15_UNET))), 859_520_964);
  assert.equal(parameterCount(clipTextModel(clipTextConfig(SD15_TEXT_ENCODER))), 123_060_480);
  assert.equal(parameterCount(autoencoderKL(vaeConfig(SD15_VAE))), 83_653_863);
});

test('SD 2.1: UNet 865,910,724, OpenCLIP ViT-H text encoder (23 layers) 340,387,840, VAE 83,653,863 parameters', () => {
  // UNet = SD 1.5's count + the wider conditioning of every cross-attention's to_k/to_v ([C,768] → [C,1024]):
  // 16 transformers with C summing to 5·320 + 5·640 + 6·1280 = 12,480, so + 2·256·12,480 = 6,389,760.
  // (Linear proj_in/proj_out [C,C] hold as many values as SD 1.5's 1×1 convs [C,C,1,1].)
  // Text encoder: 23 × 12,596,224 per layer + 49,408·1024 tokens + 77·1024 positions + 2·1024 final norm.
  assert.equal(865_910_724 - 859_520_964, 2 * 256 * 12_480);
  assert.equal(23 * (4 * (1024 * 1024 + 1024) + 2 * 1024 * 4096 + 4096 + 1024 + 4 * 1024) + 49_408 * 1024 + 77 * 1024 + 2 * 1024, 340_387_840);
  assert.equal(parameterCount(unet2DConditionModel(unetConfig(SD21_UNET))), 865_910_724);
  assert.equal(parameterCount(clipTextModel(clipTextConfig(SD21_TEXT_ENCODER))), 340_387_840);
  assert.equal(parameterCount(autoencoderKL(vaeConfig(SD21_VAE))), 83_653_863);
});

test('SD 1.5 UNet maps [B,4,64,64] latents and [B,77,768] conditioning to [B,4,64,64], 8 heads of 40/80/160 in its 16 cross-attentions', () => {
  const unet = instantiate(unet2DConditionModel(unetConfig(SD15_UNET)));
  const out = unet(input('sample', ['B', 4, 64, 64]), input('timesteps', ['B']), input('encoder_hidden_states', ['B', 77, 768]));
  assert.deepEqual(out.shape, ['B', 4, 64, 64]);
  const attn = attentionHeads(out);
  assert.equal(attn.length, 16);
  for (const a of attn) {
    assert.equal(a.shape[1], 8);
    assert.ok([40, 80, 160].includes(a.shape[3] as number));
  }
});

test('SD 2.1 UNet at 96×96 with [B,77,1024] conditioning: per-block heads [5,10,20,20] all 64 wide, linear projections', () => {
  const def = unet2DConditionModel(unetConfig(SD21_UNET));
  const unet = instantiate(def);
  const out = unet(input('sample', ['B', 4, 96, 96]), input('timesteps', ['B']), input('encoder_hidden_states', ['B', 77, 1024]));
  assert.deepEqual(out.shape, ['B', 4, 96, 96]);
  const attn = attentionHeads(out);
  assert.equal(attn.length, 16);
  assert.ok(attn.every((a) => a.shape[3] === 64));
  assert.deepEqual(new Set(attn.map((a) => a.shape[1])), new Set([5, 10, 20]));
  const proj = topoOrder([out]).filter((t) => t.op.kind === 'param' && /attentions\.0\.proj_in\.weight$/.test(t.op.name));
  assert.ok(proj.length > 0 && proj.every((t) => t.rank === 2));
});

test('text encoders: SD 1.5 gives [B,77,768] and pooled [B,768]; SD 2.1 conditions on the 23rd (penultimate) layer, [B,77,1024]', () => {
  const ids = input('input_ids', ['B', 77], 'i32');
  const sd1 = instantiate(clipTextModel(clipTextConfig(SD15_TEXT_ENCODER)))(ids);
  assert.deepEqual(sd1.conditioning.shape, ['B', 77, 768]);
  assert.deepEqual(sd1.pooler_output.shape, ['B', 768]);
  assert.equal(sd1.hidden_states.length, 13);
  const sd2 = instantiate(clipTextModel(clipTextConfig(SD21_TEXT_ENCODER)))(ids);
  assert.equal(sd2.hidden_states.length, 24);
  assert.deepEqual(sd2.conditioning.shape, ['B', 77, 1024]);
  assert.ok(topoOrder([sd2.conditioning]).some((t) => t.op.kind === 'unary' && t.op.fn === 'gelu'));
});

test('VAE: decode [B,4,64,64] → [B,3,512,512]; encode [B,3,512,512] → mean and logvar [B,4,64,64]', () => {
  const vae = instantiate(autoencoderKL(vaeConfig(SD15_VAE)))();
  assert.deepEqual(vae.decode(input('latent', ['B', 4, 64, 64])).shape, ['B', 3, 512, 512]);
  const { mean, logvar } = vae.encode(input('image', ['B', 3, 512, 512]));
  assert.deepEqual(mean.shape, ['B', 4, 64, 64]);
  assert.deepEqual(logvar.shape, ['B', 4, 64, 64]);
});
