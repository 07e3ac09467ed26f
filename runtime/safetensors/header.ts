import { JsonSyntaxError } from '../config/errors.js';
import { parseLenientJson, type JsonObject, type JsonValue } from '../config/lenient-json.js';
import { isJsonObject, jsonKind } from '../config/read-config.js';
import { byteLengthOf, elementCountOf, isDtype, SAFETENSORS_DTYPE_BITS, type Dtype } from './dtype.js';
import {
  SafetensorsEntryError,
  SafetensorsGapError,
  SafetensorsHeaderJsonError,
  SafetensorsHeaderLengthError,
  SafetensorsHeaderNotObjectError,
  SafetensorsOffsetRangeError,
  SafetensorsOverlapError,
  SafetensorsSizeMismatchError,
  SafetensorsTruncatedError,
  SafetensorsUnknownDtypeError,
  type SafetensorsError,
} from './errors.js';

/** The reference implementation refuses larger headers; so do we, before allocating for one. */
export const MAX_HEADER_LENGTH = 100_000_000;
export const LENGTH_PREFIX_BYTES = 8;
export const METADATA_KEY = '__metadata__';

export interface TensorEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly elementCount: number;
  readonly byteLength: number;
  /** [begin, end) relative to the start of the data section, as written in the header. */
  readonly dataOffsets: readonly [number, number];
  /** Absolute position of the tensor's first byte in the file. */
  readonly fileOffset: number;
}

export interface SafetensorsHeader {
  readonly headerLength: number;
  /** Absolute file offset of the data section (8 + header length). */
  readonly dataStart: number;
  readonly dataLength: number;
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Validates the little-endian u64 at byte 0 against the file size. */
export function checkHeaderLength(prefix: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < LENGTH_PREFIX_BYTES || prefix.length < LENGTH_PREFIX_BYTES) {
    throw new SafetensorsTruncatedError(path, LENGTH_PREFIX_BYTES, Math.min(fileSize, prefix.length), 'the 8-byte header length');
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  const available = fileSize - LENGTH_PREFIX_BYTES;
  if (length > BigInt(available)) {
    throw new SafetensorsHeaderLengthError(path, length, available, `the file has ${fileSize} bytes, ${available} after the length`);
  }
  if (length > BigInt(MAX_HEADER_LENGTH)) {
    throw new SafetensorsHeaderLengthError(path, length, MAX_HEADER_LENGTH, 'the format caps headers at 100 MB');
  }
  return Number(length);
}

/**
 * Parses and validates a header: JSON shape, dtypes, sizes, and that the tensors tile the data
 * section exactly (no overlaps, no holes, nothing past the end). Throws the specific error class
 * for the first problem; a header that passes can be read without further checks.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, path: string): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  const dataLength = fileSize - dataStart;
  const root = parseHeaderJson(headerBytes, path);

  let metadata: Readonly<Record<string, string>> = {};
  const tensors = new Map<string, TensorEntry>();
  for (const [name, value] of Object.entries(root)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value, path);
    else tensors.set(name, checkEntry(name, value, dataStart, dataLength, path));
  }
  checkLayout([...tensors.values()], dataStart, dataLength, fileSize, path);
  return { headerLength, dataStart, dataLength, tensors, metadata };
}

function parseHeaderJson(headerBytes: Uint8Array, path: string): JsonObject {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsHeaderJsonError(path, LENGTH_PREFIX_BYTES, 'the header bytes are not valid UTF-8');
  }
  let root: JsonValue;
  try {
    root = parseLenientJson(text, { source: `${path} header`, allowNonFinite: false, duplicateKeys: 'error' });
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const byteOffset = LENGTH_PREFIX_BYTES + Buffer.byteLength(text.slice(0, error.position.offset), 'utf8');
    throw new SafetensorsHeaderJsonError(path, byteOffset, `expected ${error.expected}, found ${error.found}`);
  }
  if (!isJsonObject(root)) throw new SafetensorsHeaderNotObjectError(path, jsonKind(root));
  if (text[0] !== '{') {
    throw new SafetensorsHeaderJsonError(path, LENGTH_PREFIX_BYTES, `expected the header to begin with '{', found ${JSON.stringify(text[0])}`);
  }
  return root;
}

function checkMetadata(value: JsonValue, path: string): Record<string, string> {
  if (!isJsonObject(value)) throw new SafetensorsEntryError(path, METADATA_KEY, 'an object of string values', jsonKind(value));
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new SafetensorsEntryError(path, METADATA_KEY, `a string for key ${JSON.stringify(key)}`, jsonKind(item));
    }
  }
  return value as Record<string, string>;
}

function isCount(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkEntry(name: string, value: JsonValue, dataStart: number, dataLength: number, path: string): TensorEntry {
  if (!isJsonObject(value)) throw new SafetensorsEntryError(path, name, 'an object {dtype, shape, data_offsets}', jsonKind(value));
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new SafetensorsEntryError(path, name, 'a string "dtype"', jsonKind(dtype));
  if (!isDtype(dtype)) throw new SafetensorsUnknownDtypeError(path, name, dtype, Object.keys(SAFETENSORS_DTYPE_BITS));
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsEntryError(path, name, '"shape" as an array of non-negative integers', JSON.stringify(shape) ?? 'nothing');
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new SafetensorsEntryError(path, name, '"data_offsets" as [begin, end] non-negative integers', JSON.stringify(offsets) ?? 'nothing');
  }
  const dims = shape as number[];
  const [begin, end] = offsets as [number, number];
  const elementCount = elementCountOf(dims);
  const description = `${dtype} [${dims.join(', ')}]`;
  if (begin > end) throw new SafetensorsOffsetRangeError(path, name, begin, end, dataLength, dataStart);
  const byteLength = Number.isSafeInteger(elementCount) ? byteLengthOf(dtype, elementCount) : undefined;
  if (byteLength !== end - begin) {
    throw new SafetensorsSizeMismatchError(path, name, byteLength, end - begin, dataStart + begin, description);
  }
  return { name, dtype, shape: dims, elementCount, byteLength, dataOffsets: [begin, end], fileOffset: dataStart + begin };
}

/**
 * Sorted by offset, the tensors must tile [0, dataLength) exactly. When the tiling is perfect but
 * runs past the end of the file, the file was cut short; when it is not, a tensor that points past
 * the end is an offset error in its own right.
 */
function checkLayout(entries: TensorEntry[], dataStart: number, dataLength: number, fileSize: number, path: string): void {
  const sorted = [...entries].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous: TensorEntry | undefined;
  let tilingProblem: SafetensorsError | undefined;
  for (const entry of sorted) {
    const [begin, end] = entry.dataOffsets;
    if (tilingProblem === undefined && begin < covered && previous !== undefined) {
      tilingProblem = new SafetensorsOverlapError(path, previous.name, entry.name, dataStart + begin, dataStart + Math.min(covered, end));
    } else if (tilingProblem === undefined && begin > covered) {
      const where = previous === undefined
        ? `before the first tensor ${JSON.stringify(entry.name)}`
        : `between tensors ${JSON.stringify(previous.name)} and ${JSON.stringify(entry.name)}`;
      tilingProblem = new SafetensorsGapError(path, dataStart + covered, dataStart + begin, where);
    }
    if (end >= covered) {
      covered = end;
      previous = entry;
    }
  }

  if (covered > dataLength) {
    if (tilingProblem === undefined) {
      throw new SafetensorsTruncatedError(path, dataStart + covered, fileSize, `header + ${covered} bytes of tensor data`);
    }
    const outside = sorted.reduce((far, entry) => (entry.dataOffsets[1] > far.dataOffsets[1] ? entry : far));
    throw new SafetensorsOffsetRangeError(path, outside.name, outside.dataOffsets[0], outside.dataOffsets[1], dataLength, dataStart);
  }
  if (tilingProblem !== undefined) throw tilingProblem;
  if (covered < dataLength) {
    const where = previous === undefined ? 'in a file with no tensor data' : `after the last tensor ${JSON.stringify(previous.name)}`;
    throw new SafetensorsGapError(path, dataStart + covered, fileSize, where);
  }
}
