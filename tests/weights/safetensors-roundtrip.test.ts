import assert from 'node:assert/strict';
import { open, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import {
  float32ToHalfBits,
  halfBitsToFloat32,
  withSafetensors,
  writeSafetensors,
  type TensorToWrite,
} from '../../runtime/safetensors/index.js';
import { craftSafetensors } from './craft-safetensors.js';
import { GOLDEN } from '../support/golden.js';

const golden = GOLDEN;
const scratch = await mkdtemp(join(tmpdir(), 'kiln-st-'));
after(() => rm(scratch, { recursive: true, force: true }));

/** det(shape, phase, scale) from the golden README: scale·sin(0.1·i + phase) in float64, cast to float32. */
const det = (count: number, phase: number, scale = 1): Float32Array =>
  Float32Array.from({ length: count }, (_, i) => scale * Math.sin(0.1 * i + phase));

test("a reference-written file reads back the golden inputs: vae-tiny's latent is det([1,4,8,8], 0.5)", async () => {
  await withSafetensors(`${golden}/vae-tiny/io.safetensors`, async (file) => {
    assert.deepEqual(file.entry('latent').shape, [1, 4, 8, 8]);
    const latent = await file.readFloat32('latent');
    const expected = det(256, 0.5);
    // Two float64 sin implementations may differ in the last bit, which the cast to float32 almost always hides.
    latent.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) <= 1e-7, `latent[${i}] = ${x}, expected ${expected[i]}`));
    const image = await file.readFloat32('image');
    assert.ok(Math.abs(image.reduce((sum, x) => sum + x, 0) - 10.502414784044959) < 1e-5); // case.json's recorded sum
  });
});

test("integer tensors read as integers: clip-tiny's input_ids row 0 is [0, 17, 250, 999, 42, 2] then 2s", async () => {
  await withSafetensors(`${golden}/clip-tiny/io.safetensors`, async (file) => {
    const ids = await file.readTyped('input_ids');
    assert.equal(ids.dtype, 'I64');
    assert.deepEqual(ids.shape, [2, 77]);
    const row0 = Array.from(ids.data.slice(0, 77) as BigInt64Array, Number);
    assert.deepEqual(row0, [0, 17, 250, 999, 42, 2, ...new Array(71).fill(2)]);
  });
});

test('every golden safetensors file passes validation and lists its metadata', async () => {
  const files = [
    'clip-tiny/io.safetensors', 'clip-tiny/text_encoder/model.safetensors', 'sched-sd15/io.safetensors',
    'single-file-sd15-tiny/model.safetensors', 'unet-sd15-tiny/io.safetensors', 'unet-sd15-tiny/unet/diffusion_pytorch_model.safetensors',
    'vae-tiny/io.safetensors', 'vae-tiny/vae/diffusion_pytorch_model.safetensors',
  ];
  for (const name of files) {
    await withSafetensors(`${golden}/${name}`, async (file) => assert.ok(file.names.length > 0, name));
  }
  await withSafetensors(`${golden}/clip-tiny/text_encoder/model.safetensors`, async (file) => assert.deepEqual(file.metadata, { format: 'pt' }));
});

const arbitraryTensor: fc.Arbitrary<TensorToWrite> = fc
  .tuple(fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'U16', 'U32') as fc.Arbitrary<TensorToWrite['dtype']>,
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const bytesPer = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4 }[dtype as 'F32'];
    return fc.uint8Array({ minLength: count * bytesPer, maxLength: count * bytesPer }).map((bytes) => ({ dtype, shape, data: bytes }));
  });

test('whatever is written reads back byte for byte, with dtype, shape and metadata, from a sorted, padded, hole-free file', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'), arbitraryTensor, { maxKeys: 5 }),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      async (tensors, metadata) => {
        const path = join(scratch, `round-${run++}.safetensors`);
        await writeSafetensors(path, tensors, metadata);
        const bytes = await readFile(path);
        const headerLength = Number(bytes.readBigUInt64LE(0));
        assert.equal(headerLength % 8, 0);
        const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
        assert.match(headerText, /^\{.*\} *$/s);
        await withSafetensors(path, async (file) => {
          assert.deepEqual({ ...file.metadata }, { ...metadata });
          const names = Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          assert.deepEqual([...file.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), names);
          let expectedBegin = 0;
          for (const name of names) {
            const entry = file.entry(name);
            assert.equal(entry.dataOffsets[0], expectedBegin, `${name} should follow the previous tensor in sorted order`);
            expectedBegin = entry.dataOffsets[1];
            assert.equal(entry.dtype, tensors[name]!.dtype);
            assert.deepEqual(entry.shape, tensors[name]!.shape);
            assert.deepEqual(await file.readBytes(name), tensors[name]!.data);
          }
        });
      },
    ),
    { numRuns: 40 },
  );
});

test('F16 and BF16 tensors come back as float32 exactly, and F32 as f16 bits rounded to nearest', async () => {
  const values = Float32Array.of(0.1, -2.5, 65504, 6e-8, -0, 1 / 3, 3.140625);
  const halves = float32ToHalfBits(values);
  const bf16 = Uint16Array.from(new Uint32Array(values.buffer), (bits) => bits >>> 16);
  const path = join(scratch, 'halves.safetensors');
  await writeSafetensors(path, {
    half: { dtype: 'F16', shape: [7], data: halves },
    brain: { dtype: 'BF16', shape: [7], data: bf16 },
    full: { dtype: 'F32', shape: [7], data: values },
    double: { dtype: 'F64', shape: [7], data: Float64Array.from(values) },
  });
  await withSafetensors(path, async (file) => {
    assert.deepEqual(await file.readFloat32('half'), halfBitsToFloat32(halves));
    assert.deepEqual(await file.readFloat16Bits('half'), halves);
    assert.deepEqual(await file.readFloat16Bits('full'), halves);
    assert.deepEqual(await file.readFloat32('full'), values);
    assert.deepEqual(await file.readFloat32('double'), values);
    const brain = await file.readFloat32('brain');
    assert.deepEqual(Array.from(new Uint32Array(brain.buffer)), Array.from(bf16, (b) => (b << 16) >>> 0));
  });
});

test('a write that fails part-way leaves neither a partial file nor a temporary behind, and keeps the old file', async () => {
  const folder = await mkdtemp(join(scratch, 'atomic-'));
  const path = join(folder, 'weights.safetensors');
  await writeSafetensors(path, { keep: { dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -2) } });
  const before = await readFile(path);
  let bufferReads = 0;
  // Valid sizes (so validation passes), but the bytes cannot be fetched once writing has begun.
  const exploding = {
    byteLength: 8,
    byteOffset: 0,
    get buffer(): ArrayBuffer {
      bufferReads++;
      throw new Error('disk full (simulated)');
    },
  } as unknown as ArrayBufferView;
  await assert.rejects(
    writeSafetensors(path, { a: { dtype: 'F32', shape: [2], data: Float32Array.of(3, 4) }, b: { dtype: 'F32', shape: [2], data: exploding } }),
    /disk full/,
  );
  assert.equal(bufferReads, 1);
  assert.deepEqual(await readdir(folder), ['weights.safetensors']);
  assert.deepEqual(await readFile(path), before);
});

test('opening reads only the header and tensors are read by position: a 4 GiB sparse file opens and serves its last tensor at once', async () => {
  const bigCount = 2 ** 30 + 2; // 4 GiB + 8 bytes of float32: more than any single Node buffer here can hold
  const bigBytes = bigCount * 4;
  const header = {
    big: { dtype: 'F32', shape: [bigCount], data_offsets: [0, bigBytes] },
    tail: { dtype: 'F32', shape: [3], data_offsets: [bigBytes, bigBytes + 12] },
  };
  const prefix = craftSafetensors(header, new Uint8Array(0));
  const path = join(scratch, 'sparse.safetensors');
  await writeFile(path, prefix);
  const handle = await open(path, 'r+');
  await handle.write(new Uint8Array(Float32Array.of(7.25, -1.5, 1e-3).buffer), 0, 12, prefix.length + bigBytes);
  await handle.close();
  assert.ok((await stat(path)).size > 2 ** 32);

  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  await withSafetensors(path, async (file) => {
    assert.deepEqual(file.entry('tail').fileOffset, prefix.length + bigBytes);
    assert.deepEqual(await file.readFloat32('tail'), Float32Array.of(7.25, -1.5, 1e-3));
  });
  assert.ok(performance.now() - started < 2000, 'reading one small tensor should not touch the rest of the file');
  assert.ok(process.memoryUsage().rss - rssBefore < 256 * 2 ** 20, 'memory must not grow with the file size');
});
