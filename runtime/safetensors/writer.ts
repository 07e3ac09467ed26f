import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { byteLengthOf, elementCountOf, isDtype, type Dtype } from './dtype.js';
import { SafetensorsWriteError } from './errors.js';
import { METADATA_KEY } from './header.js';

export interface TensorToWrite {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The element bytes as they will be stored (little-endian): any typed array or DataView. */
  readonly data: ArrayBufferView;
}

export type TensorsToWrite = ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>;

const MAX_WRITE_CHUNK = 1 << 30;

/**
 * Writes a safetensors file: tensor names sorted, data laid out in that order without holes, the
 * header padded with spaces to a multiple of 8 bytes. The file appears under `path` only once it
 * is complete (written to a temporary file in the same folder, flushed, then renamed), so a crash
 * or an error never leaves a partial file behind.
 */
export async function writeSafetensors(path: string, tensors: TensorsToWrite, metadata?: Readonly<Record<string, string>>): Promise<void> {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))] as [string, TensorToWrite][];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  entries.forEach(([name, tensor]) => checkTensor(path, name, tensor));
  const header = encodeHeader(path, entries, metadata);

  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    let position = await writeAll(handle, header, 0);
    for (const [, tensor] of entries) {
      position = await writeAll(handle, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    }
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function checkTensor(path: string, name: string, tensor: TensorToWrite): void {
  if (name === '' || name === METADATA_KEY) throw new SafetensorsWriteError(path, name, 'expected a non-empty name other than __metadata__');
  if (!isDtype(tensor.dtype)) throw new SafetensorsWriteError(path, name, `unknown dtype ${JSON.stringify(tensor.dtype)}`);
  if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new SafetensorsWriteError(path, name, `expected a shape of non-negative integers, found [${tensor.shape.join(', ')}]`);
  }
  const expected = byteLengthOf(tensor.dtype, elementCountOf(tensor.shape));
  if (expected !== tensor.data.byteLength) {
    throw new SafetensorsWriteError(
      path,
      name,
      `${tensor.dtype} [${tensor.shape.join(', ')}] needs ${expected ?? 'a whole number of'} bytes, the data has ${tensor.data.byteLength}`,
    );
  }
}

/** Length prefix + JSON header, built by hand so key order is exactly ours (JSON.stringify reorders integer-like keys). */
function encodeHeader(path: string, entries: readonly [string, TensorToWrite][], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const members: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.entries(metadata).map(([key, value]) => {
      if (typeof value !== 'string') throw new SafetensorsWriteError(path, undefined, `metadata ${JSON.stringify(key)}: expected a string value`);
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    members.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(',')}}`);
  }
  let offset = 0;
  for (const [name, tensor] of entries) {
    const end = offset + tensor.data.byteLength;
    members.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(tensor.dtype)},"shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${members.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, MAX_WRITE_CHUNK), position + done);
    done += bytesWritten;
  }
  return position + done;
}
