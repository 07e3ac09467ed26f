import { GOLDEN } from '../support/golden.js';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import {
  findWeightFiles,
  float32ToHalfBits,
  halfBitsToFloat32,
  loadComponentWeights,
  loadWeights,
  WeightFilesNotFoundError,
  WeightIndexError,
  WeightMismatchError,
  withSafetensors,
  writeSafetensors,
  type ExpectedParameter,
} from '../../runtime/safetensors/index.js';

const golden = GOLDEN;
const scratch = await mkdtemp(join(tmpdir(), 'kiln-weights-'));
after(() => rm(scratch, { recursive: true, force: true }));

let folderCounter = 0;
async function folderWith(files: Record<string, string | Uint8Array>): Promise<string> {
  const folder = join(scratch, `component-${folderCounter++}`);
  await mkdir(folder);
  for (const [name, content] of Object.entries(files)) await writeFile(join(folder, name), content);
  return folder;
}

const f32 = (...values: number[]) => ({ dtype: 'F32' as const, shape: [values.length], data: Float32Array.from(values) });

test('the plain file is chosen by default, the fp16 variant when preferred, and whichever exists when only one does', async () => {
  const both = await folderWith({ 'diffusion_pytorch_model.safetensors': 'x', 'diffusion_pytorch_model.fp16.safetensors': 'x', 'config.json': '{}' });
  assert.deepEqual((await findWeightFiles(both)).files, [join(both, 'diffusion_pytorch_model.safetensors')]);
  const preferred = await findWeightFiles(both, { preferFp16: true });
  assert.deepEqual(preferred.files, [join(both, 'diffusion_pytorch_model.fp16.safetensors')]);
  assert.equal(preferred.variant, 'fp16');

  const onlyHalf = await folderWith({ 'model.fp16.safetensors': 'x' });
  assert.deepEqual((await findWeightFiles(onlyHalf)).files, [join(onlyHalf, 'model.fp16.safetensors')]);
  const transformers = await folderWith({ 'model.safetensors': 'x', 'model.fp16.safetensors': 'x' });
  assert.equal(basename((await findWeightFiles(transformers)).files[0]!), 'model.safetensors');
});

test('a sharded checkpoint is found through its index, shards in the order the index names them', async () => {
  const index = { metadata: { total_size: 24 }, weight_map: { 'b.weight': 'm-00002-of-00002.safetensors', 'a.weight': 'm-00001-of-00002.safetensors', 'c.bias': 'm-00002-of-00002.safetensors' } };
  const folder = await folderWith({
    'diffusion_pytorch_model.safetensors.index.fp16.json': JSON.stringify(index),
    'm-00001-of-00002.safetensors': 'x',
    'm-00002-of-00002.safetensors': 'x',
  });
  const found = await findWeightFiles(folder, { preferFp16: true });
  assert.deepEqual(found.files.map((file) => basename(file)), ['m-00002-of-00002.safetensors', 'm-00001-of-00002.safetensors']);
  assert.equal(basename(found.indexFile!), 'diffusion_pytorch_model.safetensors.index.fp16.json');
});

test('an index naming an absent shard, or a folder with no weights, fails saying what was looked for and what is there', async () => {
  const broken = await folderWith({ 'model.safetensors.index.json': JSON.stringify({ weight_map: { w: 'model-1.safetensors', v: 'model-2.safetensors' } }), 'model-1.safetensors': 'x' });
  await assert.rejects(findWeightFiles(broken), (e: unknown) => e instanceof WeightIndexError && /model-2\.safetensors missing/.test(e.message));

  const pickled = await folderWith({ 'diffusion_pytorch_model.bin': 'x', 'config.json': '{}' });
  await assert.rejects(findWeightFiles(pickled), (e: unknown) =>
    e instanceof WeightFilesNotFoundError &&
    /expected one of diffusion_pytorch_model\.safetensors, diffusion_pytorch_model\.safetensors\.index\.json, model\.safetensors/.test(e.message) &&
    /found config\.json, diffusion_pytorch_model\.bin \(pickle files such as diffusion_pytorch_model\.bin are not read/.test(e.message));
});

test('every mismatch (missing, unexpected, mis-shaped, non-float, duplicated) is reported together in one error', async () => {
  const folder = await folderWith({});
  const shard1 = join(folder, 'shard1.safetensors');
  const shard2 = join(folder, 'shard2.safetensors');
  await writeSafetensors(shard1, { 'conv.weight': f32(1, 2, 3, 4, 5, 6), 'norm.bias': f32(0.5, -0.5), extra: f32(9) });
  await writeSafetensors(shard2, {
    'norm.bias': f32(0.25, 0.75),
    'step': { dtype: 'I64', shape: [1], data: BigInt64Array.of(3n) },
    'proj.weight': f32(1, 2),
  });
  const expected: ExpectedParameter[] = [
    { name: 'conv.weight', shape: [2, 3] },
    { name: 'norm.bias', shape: [2] },
    { name: 'step', shape: [1] },
    { name: 'proj.weight', shape: [2] },
    { name: 'missing.weight', shape: [4, 4] },
  ];
  await assert.rejects(loadWeights([shard1, shard2], expected, { label: 'unet' }), (error: unknown) => {
    assert.ok(error instanceof WeightMismatchError);
    assert.deepEqual(
      error.problems.map((p) => `${p.kind} ${p.name}`).sort(),
      ['dtype step', 'duplicate norm.bias', 'missing missing.weight', 'shape conv.weight', 'unexpected extra'],
    );
    assert.match(error.message, /weights for unet do not match the model's parameters: 5 problems/);
    assert.match(error.message, /shape {6}conv\.weight: expected \[2, 3\], found \[6\] \(conv\.weight in .*shard1\.safetensors\)/);
    assert.match(error.message, /missing {4}missing\.weight: expected \[4, 4\], not in any file/);
    assert.match(error.message, /duplicate {2}norm\.bias: expected once, found 2 times/);
    assert.match(error.message, /dtype {6}step: expected a float dtype .* found I64/);
    assert.match(error.message, /unexpected extra \[1\] in .*shard1\.safetensors: no such parameter/);
    return true;
  });
});

test('a rename maps another layout onto the expected names, and unexpected keys can be allowed and returned instead', async () => {
  const folder = await folderWith({});
  const halves = float32ToHalfBits(Float32Array.of(0.1, -3.75, 1000));
  await writeSafetensors(join(folder, 'diffusion_pytorch_model.fp16.safetensors'), {
    'first_stage_model.decoder.conv_in.bias': { dtype: 'F16', shape: [3], data: halves },
    'first_stage_model.decoder.conv_in.weight': { dtype: 'F16', shape: [1, 3], data: halves },
    'first_stage_model.position_ids': { dtype: 'I64', shape: [1], data: BigInt64Array.of(7n) },
    'model_ema.decay': f32(0.9999),
  });
  const rename = (key: string) =>
    key.endsWith('position_ids') ? undefined : key.replace(/^first_stage_model\./, '');
  const loaded = await loadComponentWeights(folder, [
    { name: 'decoder.conv_in.bias', shape: [3] },
    { name: 'decoder.conv_in.weight', shape: [1, 3] },
  ], { rename, unexpected: 'allow' });
  assert.deepEqual(loaded.tensors.get('decoder.conv_in.bias'), halfBitsToFloat32(halves));
  assert.deepEqual([...loaded.tensors.keys()].sort(), ['decoder.conv_in.bias', 'decoder.conv_in.weight']);
  assert.equal(loaded.sources.get('decoder.conv_in.weight')!.fileKey, 'first_stage_model.decoder.conv_in.weight');
  assert.equal(loaded.sources.get('decoder.conv_in.weight')!.entry.dtype, 'F16');
  assert.deepEqual(loaded.unexpected.map((source) => source.fileKey), ['model_ema.decay']);

  await assert.rejects(
    loadComponentWeights(folder, [{ name: 'decoder.conv_in.bias', shape: [3] }], { rename }),
    (e: unknown) => e instanceof WeightMismatchError && e.problems.length === 2 && e.problems.every((p) => p.kind === 'unexpected'),
  );
});

test("the single-file checkpoint's text encoder, renamed, loads to exactly the clip-tiny component's weights", async () => {
  const expected = await withSafetensors(`${golden}/clip-tiny/text_encoder/model.safetensors`, async (file) =>
    file.names.map((name) => ({ name, shape: file.entry(name).shape })));
  const prefix = 'cond_stage_model.transformer.';
  const fromSingleFile = await loadWeights([`${golden}/single-file-sd15-tiny/model.safetensors`], expected, {
    rename: (key) => (key.startsWith(prefix) ? key.slice(prefix.length) : undefined),
  });
  const fromComponent = await loadComponentWeights(`${golden}/clip-tiny/text_encoder`, expected);
  assert.equal(fromSingleFile.tensors.size, expected.length);
  for (const { name } of expected) assert.deepEqual(fromSingleFile.tensors.get(name), fromComponent.tensors.get(name), name);
  const embedding = fromComponent.tensors.get('text_model.embeddings.token_embedding.weight')!;
  assert.equal(embedding.length, 1000 * 32);
  assert.ok(embedding.some((x) => x !== 0));
});

test('the load closes every file it opened, whether it succeeds or fails', { skip: process.platform !== 'linux' && 'counts /proc/self/fd' }, async () => {
  const folder = await folderWith({});
  const paths = [join(folder, 'a.safetensors'), join(folder, 'b.safetensors')];
  await writeSafetensors(paths[0]!, { w: f32(1, 2) });
  await writeSafetensors(paths[1]!, { v: f32(3) });
  const openFiles = async () => (await readdir('/proc/self/fd')).length;
  const before = await openFiles();
  await assert.rejects(loadWeights(paths, [{ name: 'w', shape: [3] }, { name: 'v', shape: [1] }]), WeightMismatchError);
  assert.equal(await openFiles(), before);
  await loadWeights(paths, [{ name: 'w', shape: [2] }, { name: 'v', shape: [1] }]);
  assert.equal(await openFiles(), before);
});
