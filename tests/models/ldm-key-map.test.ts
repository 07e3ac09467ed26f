// The original-layout key mapping is derived from the config: for SD 1.5's geometry it yields the well-known LDM keys,
// and for any geometry it is one-to-one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parameters } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../../models/clip/index.js';
import { SD15_UNET, SD15_VAE, SD21_TEXT_ENCODER, TINY_UNET } from '../../models/configs/index.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';
import { ldmClipKeys, ldmUnetKeys, ldmVaeKeys } from '../../models/weights/index.js';

test('SD 1.5 UNet and VAE parameters map to the original checkpoint keys, one-to-one', () => {
  const u = unetConfig(SD15_UNET), v = vaeConfig(SD15_VAE);
  const uk = ldmUnetKeys(u), vk = ldmVaeKeys(v);
  const m = (f: typeof uk, n: string) => f(n).key;
  assert.equal(m(uk, 'time_embedding.linear_2.weight'), 'model.diffusion_model.time_embed.2.weight');
  assert.equal(m(uk, 'down_blocks.0.downsamplers.0.conv.weight'), 'model.diffusion_model.input_blocks.3.0.op.weight');
  assert.equal(m(uk, 'down_blocks.2.attentions.1.proj_in.weight'), 'model.diffusion_model.input_blocks.8.1.proj_in.weight');
  assert.equal(m(uk, 'down_blocks.3.resnets.1.conv2.weight'), 'model.diffusion_model.input_blocks.11.0.out_layers.3.weight');
  assert.equal(m(uk, 'mid_block.resnets.1.time_emb_proj.bias'), 'model.diffusion_model.middle_block.2.emb_layers.1.bias');
  assert.equal(m(uk, 'mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight'), 'model.diffusion_model.middle_block.1.transformer_blocks.0.ff.net.0.proj.weight');
  assert.equal(m(uk, 'up_blocks.0.upsamplers.0.conv.weight'), 'model.diffusion_model.output_blocks.2.1.conv.weight');
  assert.equal(m(uk, 'up_blocks.1.upsamplers.0.conv.bias'), 'model.diffusion_model.output_blocks.5.2.conv.bias');
  assert.equal(m(uk, 'up_blocks.3.attentions.2.proj_out.weight'), 'model.diffusion_model.output_blocks.11.1.proj_out.weight');
  assert.equal(m(uk, 'up_blocks.3.resnets.0.conv_shortcut.weight'), 'model.diffusion_model.output_blocks.9.0.skip_connection.weight');
  assert.equal(m(uk, 'conv_norm_out.weight'), 'model.diffusion_model.out.0.weight');
  assert.equal(m(vk, 'decoder.up_blocks.0.upsamplers.0.conv.weight'), 'first_stage_model.decoder.up.3.upsample.conv.weight');
  assert.equal(m(vk, 'decoder.up_blocks.3.resnets.0.conv_shortcut.weight'), 'first_stage_model.decoder.up.0.block.0.nin_shortcut.weight');
  assert.equal(m(vk, 'encoder.mid_block.resnets.1.norm2.bias'), 'first_stage_model.encoder.mid.block_2.norm2.bias');
  assert.deepEqual(vk('decoder.mid_block.attentions.0.to_out.0.weight'), { key: 'first_stage_model.decoder.mid.attn_1.proj_out.weight', conv1x1: true });
  for (const [def, keys] of [[unet2DConditionModel(u), uk], [autoencoderKL(v), vk], [unet2DConditionModel(unetConfig(TINY_UNET)), ldmUnetKeys(unetConfig(TINY_UNET))]] as const) {
    const names = parameters(def).map((p) => p.name);
    assert.equal(new Set(names.map((n) => keys(n).key)).size, names.length);
  }
});

test('SD 2.x text encoder parameters map into OpenCLIP keys, q/k/v as thirds of the fused in_proj', () => {
  const c = clipTextConfig(SD21_TEXT_ENCODER), k = ldmClipKeys(c, 'sd2');
  assert.deepEqual(k('text_model.encoder.layers.22.self_attn.v_proj.weight'),
    { key: 'cond_stage_model.model.transformer.resblocks.22.attn.in_proj_weight', rows: [2048, 3072] });
  assert.equal(k('text_model.encoder.layers.0.mlp.fc2.bias').key, 'cond_stage_model.model.transformer.resblocks.0.mlp.c_proj.bias');
  assert.equal(k('text_model.embeddings.position_embedding.weight').key, 'cond_stage_model.model.positional_embedding');
  const refs = parameters(clipTextModel(c)).map((p) => k(p.name));
  assert.equal(new Set(refs.map((r) => `${r.key}@${r.rows?.join(':') ?? ''}`)).size, refs.length);
});
