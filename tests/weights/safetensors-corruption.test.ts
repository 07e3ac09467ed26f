import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  openSafetensors,
  SafetensorsDtypeConversionError,
  SafetensorsEntryError,
  SafetensorsGapError,
  SafetensorsHeaderJsonError,
  SafetensorsHeaderLengthError,
  SafetensorsHeaderNotObjectError,
  SafetensorsOffsetRangeError,
  SafetensorsOverlapError,
  SafetensorsSizeMismatchError,
  SafetensorsTensorNotFoundError,
  SafetensorsTruncatedError,
  SafetensorsUnknownDtypeError,
  SafetensorsWriteError,
  withSafetensors,
  writeSafetensors,
} from '../../runtime/safetensors/index.js';
import { craftSafetensors, patternBytes, writeCrafted } from './craft-safetensors.js';

const scratch = await mkdtemp(join(tmpdir(), 'kiln-st-bad-'));
after(() => rm(scratch, { recursive: true, force: true }));
let fileCounter = 0;
const nextPath = (): string => join(scratch, `case-${fileCounter++}.safetensors`);

/** Opening `path` must fail with `errorClass`, and the message must match every pattern. */
async function assertOpenFails(path: string, errorClass: new (...args: never[]) => Error, ...patterns: RegExp[]): Promise<Error> {
  let caught: unknown;
  try {
    const file = await openSafetensors(path);
    await file.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof errorClass, `expected ${errorClass.name}, got ${String(caught)}`);
  assert.ok(caught.message.includes(path), `message should name the file: ${caught.message}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

test('a file shorter than the 8-byte length prefix is reported as truncated', async () => {
  const path = nextPath();
  await writeFile(path, Uint8Array.of(16, 0, 0, 0, 0));
  await assertOpenFails(path, SafetensorsTruncatedError, /expected 8 bytes \(the 8-byte header length\), found 5/);
});

test('a file cut short inside the tensor data is reported as truncated with both sizes', async () => {
  const path = await writeCrafted(nextPath(), { a: f32([2], 0, 8), b: f32([3], 8, 20) }, patternBytes(20));
  const header = JSON.stringify({ a: f32([2], 0, 8), b: f32([3], 8, 20) });
  const headerLength = Math.ceil(header.length / 8) * 8;
  await truncate(path, 8 + headerLength + 17);
  await assertOpenFails(path, SafetensorsTruncatedError, new RegExp(`expected ${8 + headerLength + 20} bytes .*found ${8 + headerLength + 17}`));
});

test('a header length that points past the end of the file is rejected before anything is allocated', async () => {
  const path = nextPath();
  await writeFile(path, craftSafetensors({}, new Uint8Array(0), { headerLength: 1n << 40n }));
  await assertOpenFails(path, SafetensorsHeaderLengthError, /header length at byte 0 is 1099511627776; expected at most 8 \(the file has 16 bytes/);
});

test('header bytes that are not JSON fail with the byte offset of the problem', async () => {
  const path = await writeCrafted(nextPath(), '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, oops}', patternBytes(4));
  const error = await assertOpenFails(path, SafetensorsHeaderJsonError, /at byte 70: expected a string key/);
  assert.equal((error as SafetensorsHeaderJsonError).byteOffset, 8 + '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '.length);
});

test('a header that is not UTF-8, repeats a tensor name, or starts with whitespace is not valid JSON for the format', async () => {
  const notUtf8 = craftSafetensors('{"a\xff": 1}', new Uint8Array(0));
  notUtf8.set([0xc3, 0x28], 10); // an invalid two-byte sequence inside the key
  const notUtf8Path = nextPath();
  await writeFile(notUtf8Path, notUtf8);
  await assertOpenFails(notUtf8Path, SafetensorsHeaderJsonError, /not valid UTF-8/);

  const duplicate = await writeCrafted(nextPath(), '{"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', patternBytes(4));
  await assertOpenFails(duplicate, SafetensorsHeaderJsonError, /key "a" again/);

  const leadingSpace = await writeCrafted(nextPath(), ' {"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', patternBytes(4));
  await assertOpenFails(leadingSpace, SafetensorsHeaderJsonError, /begin with '\{'/);
});

test('a header that is JSON but not an object is rejected by name', async () => {
  const path = await writeCrafted(nextPath(), '[1, 2, 3]', new Uint8Array(0));
  await assertOpenFails(path, SafetensorsHeaderNotObjectError, /must be a JSON object of tensor entries, found an array/);
});

test('malformed entries and metadata say which entry and what was expected', async () => {
  const badShape = await writeCrafted(nextPath(), { a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, patternBytes(8));
  await assertOpenFails(badShape, SafetensorsEntryError, /entry "a": expected "shape" as an array of non-negative integers, found \[2,-1\]/);

  const badOffsets = await writeCrafted(nextPath(), { a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, patternBytes(4));
  await assertOpenFails(badOffsets, SafetensorsEntryError, /"data_offsets" as \[begin, end\]/);

  const badMetadata = await writeCrafted(nextPath(), { __metadata__: { format: 'pt', step: 3 }, a: f32([1], 0, 4) }, patternBytes(4));
  await assertOpenFails(badMetadata, SafetensorsEntryError, /"__metadata__": expected a string for key "step", found a number/);
});

test('a dtype the format does not define is rejected by name', async () => {
  const path = await writeCrafted(nextPath(), { w: { dtype: 'Q4_K', shape: [4], data_offsets: [0, 4] } }, patternBytes(4));
  const error = await assertOpenFails(path, SafetensorsUnknownDtypeError, /tensor "w": unknown dtype "Q4_K"; expected one of BOOL, U8/);
  assert.equal((error as SafetensorsUnknownDtypeError).dtype, 'Q4_K');
});

test('data_offsets that span other than shape × dtype size are a size mismatch', async () => {
  const path = await writeCrafted(nextPath(), { w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 16] } }, patternBytes(16));
  await assertOpenFails(path, SafetensorsSizeMismatchError, /tensor "w" \(F16 \[2, 3\]\) needs 12 bytes, but its data_offsets span 16 bytes/);
});

test('inverted offsets, and offsets past the data section in a non-contiguous layout, are out of range', async () => {
  const inverted = await writeCrafted(nextPath(), { w: f32([0], 8, 4) }, patternBytes(8));
  await assertOpenFails(inverted, SafetensorsOffsetRangeError, /tensor "w": data_offsets \[8, 4\] must satisfy 0 ≤ begin ≤ end ≤ 8/);

  const outside = await writeCrafted(nextPath(), { a: f32([1], 0, 4), far: f32([1], 1000, 1004) }, patternBytes(4));
  await assertOpenFails(outside, SafetensorsOffsetRangeError, /tensor "far": data_offsets \[1000, 1004\] must satisfy .* ≤ 4/);
});

test('two tensors that share bytes are an overlap, named both', async () => {
  const path = await writeCrafted(nextPath(), { a: f32([2], 0, 8), b: f32([2], 4, 12) }, patternBytes(12));
  await assertOpenFails(path, SafetensorsOverlapError, /tensors "a" and "b" overlap at file bytes/);
});

test('holes are rejected: before the first tensor, between tensors, and unused bytes at the end', async () => {
  const between = await writeCrafted(nextPath(), { a: f32([1], 0, 4), b: f32([1], 8, 12) }, patternBytes(12));
  await assertOpenFails(between, SafetensorsGapError, /\(4 bytes, between tensors "a" and "b"\) belong to no tensor/);

  const leading = await writeCrafted(nextPath(), { a: f32([1], 4, 8) }, patternBytes(8));
  await assertOpenFails(leading, SafetensorsGapError, /before the first tensor "a"/);

  const trailing = await writeCrafted(nextPath(), { a: f32([1], 0, 4) }, patternBytes(7));
  await assertOpenFails(trailing, SafetensorsGapError, /\(3 bytes, after the last tensor "a"\)/);
});

test('a valid file still refuses unknown names and conversions its dtype cannot make', async () => {
  const path = await writeCrafted(nextPath(), { ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] }, scale: { dtype: 'F8_E4M3', shape: [4], data_offsets: [16, 20] } }, patternBytes(20));
  await withSafetensors(path, async (file) => {
    await assert.rejects(file.readFloat32('idz'), (e: unknown) => e instanceof SafetensorsTensorNotFoundError && /no tensor named "idz"; the file holds 2 tensors \("ids", "scale"\)/.test(e.message));
    await assert.rejects(file.readFloat32('ids'), (e: unknown) => e instanceof SafetensorsDtypeConversionError && /"ids" has dtype I64; reading it as float32 needs one of F32, F16, BF16, F64/.test(e.message));
    await assert.rejects(file.readTyped('scale'), SafetensorsDtypeConversionError);
    assert.equal((await file.readTyped('ids')).data.length, 2);
  });
});

test('the writer refuses data whose size does not match shape × dtype, and writes nothing', async () => {
  const path = nextPath();
  await assert.rejects(
    writeSafetensors(path, { w: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2]) } }),
    (e: unknown) => e instanceof SafetensorsWriteError && /tensor "w": F32 \[3\] needs 12 bytes, the data has 8/.test(e.message),
  );
  await assert.rejects(openSafetensors(path), /ENOENT/);
});
