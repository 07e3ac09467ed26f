import { open, type FileHandle } from 'node:fs/promises';
import { isFloatDtype, isReadableDtype, viewAs, type FloatDtype, type ReadableDtype, type TypedArrayOf } from './dtype.js';
import { SafetensorsDtypeConversionError, SafetensorsTensorNotFoundError, SafetensorsTruncatedError } from './errors.js';
import { bfloat16BitsToFloat32, float32ToHalfBits, halfBitsToFloat32 } from './half-float.js';
import { checkHeaderLength, LENGTH_PREFIX_BYTES, parseSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from './header.js';

/** A tensor in its stored element type: F16/BF16 as raw bit patterns, integers as integers. */
export type TypedTensor = {
  [D in ReadableDtype]: { readonly dtype: D; readonly shape: readonly number[]; readonly data: TypedArrayOf[D] };
}[ReadableDtype];

/**
 * An open safetensors file. Opening reads and validates only the header; each tensor is read on
 * demand with positioned reads, so a multi-gigabyte checkpoint never sits in memory as one buffer.
 * Call close() when done (or use withSafetensors).
 */
export interface SafetensorsFile {
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in header order. */
  readonly names: readonly string[];
  has(name: string): boolean;
  /** dtype, shape, byte range; throws SafetensorsTensorNotFoundError for an unknown name. */
  entry(name: string): TensorEntry;
  /** The stored bytes, little-endian, in a buffer of their own (aligned for any typed-array view). */
  readBytes(name: string): Promise<Uint8Array>;
  readTyped(name: string): Promise<TypedTensor>;
  /** F32 as stored; F16 and BF16 converted exactly; F64 rounded to nearest float32. */
  readFloat32(name: string): Promise<Float32Array>;
  /**
   * IEEE half bit patterns, for a runtime that keeps weights in f16: F16 as stored, F32/BF16/F64
   * rounded to nearest-even half (F64 via float32).
   */
  readFloat16Bits(name: string): Promise<Uint16Array>;
  close(): Promise<void>;
}

const FLOAT_DTYPES: readonly FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];
/** fs.read takes at most 2 GiB − 1 per call; big tensors are read in pieces. */
const MAX_READ_CHUNK = 1 << 30;

export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const prefix = new Uint8Array(Math.min(LENGTH_PREFIX_BYTES, fileSize));
    await readExactly(handle, prefix, 0, path);
    const headerLength = checkHeaderLength(prefix, fileSize, path);
    const headerBytes = new Uint8Array(headerLength);
    await readExactly(handle, headerBytes, LENGTH_PREFIX_BYTES, path);
    const header = parseSafetensorsHeader(headerBytes, fileSize, path);
    return new OpenSafetensorsFile(path, handle, header);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Opens, hands the file to `use`, and closes it however `use` ends. */
export async function withSafetensors<T>(path: string, use: (file: SafetensorsFile) => Promise<T>): Promise<T> {
  const file = await openSafetensors(path);
  try {
    return await use(file);
  } finally {
    await file.close();
  }
}

class OpenSafetensorsFile implements SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly names: readonly string[];

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly header: SafetensorsHeader,
  ) {
    this.metadata = header.metadata;
    this.names = [...header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  entry(name: string): TensorEntry {
    const entry = this.header.tensors.get(name);
    if (entry === undefined) throw new SafetensorsTensorNotFoundError(this.path, name, this.names);
    return entry;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const entry = this.entry(name);
    const bytes = new Uint8Array(entry.byteLength);
    await readExactly(this.handle, bytes, entry.fileOffset, this.path);
    return bytes;
  }

  async readTyped(name: string): Promise<TypedTensor> {
    const entry = this.entry(name);
    const dtype = entry.dtype;
    if (!isReadableDtype(dtype)) {
      throw new SafetensorsDtypeConversionError(this.path, name, dtype, 'a typed array', ['F64', 'F32', 'F16', 'BF16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL']);
    }
    const data = viewAs(dtype, await this.readBytes(name));
    return { dtype, shape: entry.shape, data } as TypedTensor;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const dtype = this.floatDtypeOf(name, 'float32');
    const bytes = await this.readBytes(name);
    switch (dtype) {
      case 'F32': return viewAs('F32', bytes);
      case 'F16': return halfBitsToFloat32(viewAs('F16', bytes));
      case 'BF16': return bfloat16BitsToFloat32(viewAs('BF16', bytes));
      case 'F64': return Float32Array.from(viewAs('F64', bytes));
    }
  }

  async readFloat16Bits(name: string): Promise<Uint16Array> {
    const dtype = this.floatDtypeOf(name, 'float16');
    if (dtype === 'F16') return viewAs('F16', await this.readBytes(name));
    return float32ToHalfBits(await this.readFloat32(name));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private floatDtypeOf(name: string, wanted: string): FloatDtype {
    const { dtype } = this.entry(name);
    if (!isFloatDtype(dtype)) throw new SafetensorsDtypeConversionError(this.path, name, dtype, wanted, FLOAT_DTYPES);
    return dtype;
  }
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(target.length - done, MAX_READ_CHUNK);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    // The header promised these bytes; a short read means the file shrank after it was opened.
    if (bytesRead === 0) throw new SafetensorsTruncatedError(path, position + target.length, position + done, 'bytes the header promised');
    done += bytesRead;
  }
}
