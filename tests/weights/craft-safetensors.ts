import { writeFile } from 'node:fs/promises';

/**
 * Builds safetensors bytes by hand, so tests can describe broken files exactly: the header text
 * is written verbatim (padded with spaces to 8 unless told otherwise) and followed by `data`.
 */
export function craftSafetensors(
  header: string | object,
  data: Uint8Array,
  options: { readonly headerLength?: bigint; readonly pad?: boolean } = {},
): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const padded = options.pad === false ? json.length : Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length).fill(0x20, 8 + json.length, 8 + padded);
  new DataView(out.buffer).setBigUint64(0, options.headerLength ?? BigInt(padded), true);
  out.set(json, 8);
  out.set(data, 8 + padded);
  return out;
}

export async function writeCrafted(path: string, header: string | object, data: Uint8Array, options?: Parameters<typeof craftSafetensors>[2]): Promise<string> {
  await writeFile(path, craftSafetensors(header, data, options));
  return path;
}

/** Distinct, non-zero bytes (so a misplaced offset shows up as wrong values). */
export function patternBytes(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => ((i * 37 + seed * 11) % 251) + 1);
}

export function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
