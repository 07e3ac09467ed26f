// Weight layouts: a tiny pipeline written as diffusers folders and as one original-layout file loads to the same
// weights and outputs; wrong files fail once, listing every problem.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { input, instantiate } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../../models/clip/index.js';
import { TINY_TEXT_ENCODER, TINY_UNET, TINY_VAE, writeTinyPipeline } from '../../models/configs/index.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';
import { type WeightMap, expectedParameters, loadDiffusersComponent, loadStableDiffusionCheckpoint } from '../../models/weights/index.js';
import { WeightMismatchError, float32ToHalfBits, openSafetensors, writeSafetensors } from '../../runtime/safetensors/index.js';
import { det, evaluateWithCaptures } from '../support/golden.js';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'kiln-layouts-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const u = unetConfig(TINY_UNET), v = vaeConfig(TINY_VAE), t = clipTextConfig(TINY_TEXT_ENCODER);
const defs = { unet: unet2DConditionModel(u), vae: autoencoderKL(v), text_encoder: clipTextModel(t) };
const parts = { unet: { config: u, def: defs.unet }, vae: { config: v, def: defs.vae }, text_encoder: { config: t, def: defs.text_encoder } };

const sameBytes = (x: Float32Array, y: Float32Array) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
const assertSame = (a: WeightMap, b: WeightMap) => {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, x] of a) assert.ok(sameBytes(x, b.get(k)!), `${k} differs`);
};

function outputs(w: { unet: WeightMap; vae: WeightMap; text_encoder: WeightMap }): Float64Array[] {
  const unet = instantiate(defs.unet)(input('sample', [1, 4, 16, 16]), input('timesteps', [1]), input('encoder_hidden_states', [1, 77, 32]));
  const image = instantiate(defs.vae)().decode(input('latent', [1, 4, 8, 8]));
  const text = instantiate(defs.text_encoder)(input('input_ids', [1, 77], 'i32'));
  return evaluateWithCaptures([unet, image, text.pooler_output], [], {
    ...Object.fromEntries(w.unet), ...Object.fromEntries(w.vae), ...Object.fromEntries(w.text_encoder),
    sample: det([1, 4, 16, 16]), timesteps: [321], encoder_hidden_states: det([1, 77, 32], 1), latent: det([1, 4, 8, 8], 0.5),
    input_ids: Array.from({ length: 77 }, (_, i) => (i === 0 ? 0 : i < 6 ? 10 * i : 2)),
  }).outputs;
}

test('the same tiny pipeline in the diffusers layout and in the single-file layout loads to identical weights and outputs', async () => {
  const tiny = await writeTinyPipeline(join(dir, 'both'), { seed: 7 });
  const folder = {
    unet: await loadDiffusersComponent(join(tiny.dir, 'unet'), defs.unet),
    vae: await loadDiffusersComponent(join(tiny.dir, 'vae'), defs.vae),
    text_encoder: await loadDiffusersComponent(join(tiny.dir, 'text_encoder'), defs.text_encoder),
  };
  const single = await loadStableDiffusionCheckpoint(tiny.checkpoint!, parts);
  for (const c of ['unet', 'vae', 'text_encoder'] as const) {
    assertSame(folder[c], tiny.weights[c]);
    assertSame(single[c]!, tiny.weights[c]);
  }
  const a = outputs(folder), b = outputs(single as typeof folder);
  a.forEach((x, i) => assert.deepEqual(x, b[i]));
  assert.ok(a.every((x) => x.some((e) => Math.abs(e) > 1e-3)));
});

test('the SD 2.x OpenCLIP layout (fused in_proj, positional_embedding, ln_final) round-trips the text encoder exactly', async () => {
  const tiny = await writeTinyPipeline(join(dir, 'sd2'), { seed: 3, layouts: ['single-file'], textEncoderLayout: 'sd2' });
  const file = await openSafetensors(tiny.checkpoint!);
  assert.deepEqual(file.entry('cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight').shape, [96, 32]);
  await file.close();
  const loaded = await loadStableDiffusionCheckpoint(tiny.checkpoint!, { text_encoder: parts.text_encoder });
  assertSame(loaded.text_encoder!, tiny.weights.text_encoder);
});

test('the tiny pipeline is deterministic in its seed and has no trivial norm weights', async () => {
  const a = await writeTinyPipeline(join(dir, 'a'), { seed: 11, layouts: ['diffusers'] });
  const b = await writeTinyPipeline(join(dir, 'b'), { seed: 11, layouts: ['diffusers'] });
  const c = await writeTinyPipeline(join(dir, 'c'), { seed: 12, layouts: ['diffusers'] });
  const f = (p: string) => readFile(join(p, 'unet', 'diffusion_pytorch_model.safetensors'));
  assert.ok((await f(a.dir)).equals(await f(b.dir)));
  assert.ok(!(await f(a.dir)).equals(await f(c.dir)));
  for (const [k, x] of a.weights.unet) if (/norm\w*\.weight$/.test(k)) assert.ok(x.every((e) => e !== 1 && e !== 0 && e >= 0.5 && e <= 1.5), k);
});

test('a diffusers folder with missing, mis-shaped and unknown tensors fails with one error listing all of them', async () => {
  const tiny = await writeTinyPipeline(join(dir, 'bad'), { seed: 1, layouts: ['diffusers'] });
  const w = new Map<string, { dtype: 'F32'; shape: readonly number[]; data: Float32Array }>(
    expectedParameters(defs.unet).map((p) => [p.name, { dtype: 'F32', shape: p.shape, data: tiny.weights.unet.get(p.name)! }]));
  w.delete('conv_in.weight');
  w.delete('mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight');
  w.set('conv_out.bias', { dtype: 'F32', shape: [5], data: new Float32Array(5).fill(0.5) });
  w.set('down_blocks.0.resnets.7.conv1.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2).fill(0.5) });
  await writeSafetensors(join(tiny.dir, 'unet', 'diffusion_pytorch_model.safetensors'), w);
  await assert.rejects(loadDiffusersComponent(join(tiny.dir, 'unet'), defs.unet), (e: unknown) => {
    assert.ok(e instanceof WeightMismatchError);
    assert.deepEqual(e.problems.map((p) => `${p.kind} ${p.name}`).sort(), [
      'missing conv_in.weight', 'missing mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight',
      'shape conv_out.bias', 'unexpected down_blocks.0.resnets.7.conv1.weight',
    ]);
    assert.match(e.message, /conv_out\.bias: expected \[4\], found \[5\]/);
    return true;
  });
});

test('a single-file checkpoint with a missing key and a mis-shaped VAE attention kernel fails with one error naming both keys', async () => {
  const tiny = await writeTinyPipeline(join(dir, 'bad-single'), { seed: 2, layouts: ['single-file'] });
  const src = await openSafetensors(tiny.checkpoint!);
  const w = new Map<string, { dtype: 'F32'; shape: readonly number[]; data: Float32Array }>();
  for (const k of src.names) w.set(k, { dtype: 'F32', shape: src.entry(k).shape, data: await src.readFloat32(k) });
  await src.close();
  w.delete('model.diffusion_model.output_blocks.1.1.conv.weight');           // the upsampler of up_blocks.0 (layers_per_block 1)
  const q = w.get('first_stage_model.decoder.mid.attn_1.q.weight')!;
  w.set('first_stage_model.decoder.mid.attn_1.q.weight', { ...q, shape: [64, 64] });   // a linear where LDM has a 1×1 conv
  const path = join(dir, 'bad.safetensors');
  await writeSafetensors(path, w);
  await assert.rejects(loadStableDiffusionCheckpoint(path, parts), (e: unknown) => {
    assert.ok(e instanceof WeightMismatchError);
    assert.equal(e.problems.length, 2);
    assert.match(e.message, /unet:up_blocks\.0\.upsamplers\.0\.conv\.weight \(stored as model\.diffusion_model\.output_blocks\.1\.1\.conv\.weight\)/);
    assert.match(e.message, /vae:decoder\.mid_block\.attentions\.0\.to_q\.weight: expected \[64, 64, 1, 1\], found \[64, 64\]/);
    return true;
  });
});

test('an fp16 variant file (diffusion_pytorch_model.fp16.safetensors) loads, preferred when asked, within half-precision rounding', async () => {
  const tiny = await writeTinyPipeline(join(dir, 'fp16'), { seed: 5, layouts: ['diffusers'] });
  const shapes = new Map(expectedParameters(defs.unet).map((p) => [p.name, p.shape as number[]]));
  const half = new Map([...tiny.weights.unet].map(([k, d]) => [k, { dtype: 'F16' as const, shape: shapes.get(k)!, data: float32ToHalfBits(d) }]));
  await writeSafetensors(join(tiny.dir, 'unet', 'diffusion_pytorch_model.fp16.safetensors'), half);
  const f32 = await loadDiffusersComponent(join(tiny.dir, 'unet'), defs.unet);
  const f16 = await loadDiffusersComponent(join(tiny.dir, 'unet'), defs.unet, { preferFp16: true });
  assertSame(f32, tiny.weights.unet);
  let maxRel = 0, differs = 0;
  for (const [k, x] of f16) {
    const ref = f32.get(k)!;
    x.forEach((e, i) => {
      if (e !== ref[i]) differs++;
      maxRel = Math.max(maxRel, Math.abs(e - ref[i]) / Math.max(Math.abs(ref[i]), 2 ** -14));
    });
  }
  assert.ok(differs > 0, 'the half-precision file is really half precision');
  assert.ok(maxRel <= 2 ** -11, `relative rounding ${maxRel} exceeds half an f16 ulp`);
});
