// The single-file (original LDM layout) checkpoint of the tiny pipeline loads, through the canonical key mapping derived
// from each config, to exactly the source cases' weights and so reproduces their golden outputs.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { input, instantiate } from '../../dsl/index.js';
import { clipTextConfig, clipTextModel } from '../../models/clip/index.js';
import { unet2DConditionModel, unetConfig } from '../../models/unet/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';
import { type WeightMap, loadDiffusersComponent, loadStableDiffusionCheckpoint, readComponentConfig } from '../../models/weights/index.js';
import { WeightMismatchError, openSafetensors, writeSafetensors } from '../../runtime/safetensors/index.js';
import { evaluateWithCaptures, goldenPath, readIo, relL2 } from '../support/golden.js';

const CASE = 'single-file-sd15-tiny';
let dir = '';
let renamed = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-single-file-'));
  renamed = join(dir, 'model.safetensors');
  const rename = JSON.parse(await readFile(goldenPath(CASE, 'canonical_rename.json'), 'utf8')) as Record<string, string>;
  const src = await openSafetensors(goldenPath(CASE, 'model.safetensors'));
  const out: Record<string, { dtype: 'F32'; shape: readonly number[]; data: Float32Array }> = {};
  for (const k of src.names) out[rename[k] ?? k] = { dtype: 'F32', shape: src.entry(k).shape, data: await src.readFloat32(k) };
  await src.close();
  await writeSafetensors(renamed, out);
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function parts() {
  const pipe = goldenPath(CASE, 'pipeline');
  const u = unetConfig(await readComponentConfig(pipe, 'unet')), v = vaeConfig(await readComponentConfig(pipe, 'vae'));
  const t = clipTextConfig(await readComponentConfig(pipe, 'text_encoder'));
  return {
    unet: { config: u, def: unet2DConditionModel(u) }, vae: { config: v, def: autoencoderKL(v) },
    text_encoder: { config: t, def: clipTextModel(t) },
  };
}

const sameWeights = (a: WeightMap, b: WeightMap) => {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of a) assert.ok(sameBytes(v, b.get(k)!), `${k} differs`);
};
const sameBytes = (x: Float32Array, y: Float32Array) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));

test('after canonical_rename, the single file loads to exactly the diffusers-folder weights of all three components', async () => {
  const p = await parts();
  const loaded = await loadStableDiffusionCheckpoint(renamed, p);
  sameWeights(loaded.unet!, await loadDiffusersComponent(goldenPath('unet-sd15-tiny', 'unet'), p.unet.def));
  sameWeights(loaded.vae!, await loadDiffusersComponent(goldenPath('vae-tiny', 'vae'), p.vae.def));
  sameWeights(loaded.text_encoder!, await loadDiffusersComponent(goldenPath('clip-tiny', 'text_encoder'), p.text_encoder.def));
});

test('weights from the single file reproduce the golden UNet, VAE decode and CLIP outputs', async () => {
  const p = await parts();
  const w = await loadStableDiffusionCheckpoint(renamed, p);
  const [u, v, c] = await Promise.all(['unet-sd15-tiny', 'vae-tiny', 'clip-tiny'].map((name) => readIo(name)));
  const g = (io: Map<string, { shape: number[]; data: Float64Array }>, n: string) => io.get(n)!;
  const unetOut = instantiate(p.unet.def)(input('sample', g(u, 'sample').shape), input('timesteps', g(u, 'timesteps').shape), input('encoder_hidden_states', g(u, 'encoder_hidden_states').shape));
  const decoded = instantiate(p.vae.def)().decode(input('latent', g(v, 'latent').shape));
  const text = instantiate(p.text_encoder.def)(input('input_ids', g(c, 'input_ids').shape, 'i32'));
  const { outputs } = evaluateWithCaptures([unetOut, decoded, text.last_hidden_state, text.pooler_output], [], {
    ...Object.fromEntries(w.unet!), ...Object.fromEntries(w.vae!), ...Object.fromEntries(w.text_encoder!),
    sample: g(u, 'sample').data, timesteps: g(u, 'timesteps').data, encoder_hidden_states: g(u, 'encoder_hidden_states').data,
    latent: g(v, 'latent').data, input_ids: g(c, 'input_ids').data,
  });
  const golden = [g(u, 'out'), g(v, 'decode.sample'), g(c, 'last_hidden_state'), g(c, 'pooler_output')];
  outputs.forEach((o, i) => assert.ok(relL2(o, golden[i].data) < 1e-5, `output ${i}: rel-L2 ${relL2(o, golden[i].data)}`));
});

test("the conversion script's own numbering (SD geometry hard-coded) is rejected with one error listing every misplaced key", async () => {
  const p = await parts();
  await assert.rejects(loadStableDiffusionCheckpoint(goldenPath(CASE, 'model.safetensors'), p), (e: unknown) => {
    assert.ok(e instanceof WeightMismatchError);
    const kinds = new Set(e.problems.map((q) => q.kind));
    assert.ok(kinds.has('missing') && kinds.has('unexpected'), [...kinds].join());
    // every renamed key shows up: either as missing under its canonical name or as unexpected under the script's name
    assert.ok(e.problems.filter((q) => q.kind === 'unexpected').length >= 60, `${e.problems.length} problems`);
    assert.match(e.message, /model\.diffusion_model\.input_blocks\.2\.0\.op\.weight/);
    return true;
  });
});
