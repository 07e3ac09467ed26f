import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject, jsonKind, readJsonConfig } from '../config/read-config.js';
import { WeightFilesNotFoundError, WeightIndexError } from './weight-errors.js';

export interface WeightFiles {
  readonly folder: string;
  /** Paths of the file, or of every shard in the order the index first names them. */
  readonly files: readonly string[];
  readonly variant: 'fp16' | undefined;
  /** The *.safetensors.index*.json a sharded checkpoint was found through. */
  readonly indexFile: string | undefined;
}

export interface FindWeightFilesOptions {
  /** Take `*.fp16.safetensors` (or the fp16 index) when both precisions are present. Default false. */
  readonly preferFp16?: boolean;
  /** File stems to look for, first match wins. Default: diffusers' then transformers' name. */
  readonly baseNames?: readonly string[];
}

const DEFAULT_BASE_NAMES = ['diffusion_pytorch_model', 'model'] as const;

/**
 * Finds a component folder's weights the way diffusers names them: `<base>.safetensors`,
 * `<base>.fp16.safetensors`, or a sharded set behind `<base>.safetensors.index.json` /
 * `<base>.safetensors.index.fp16.json`. The other precision is used when the preferred one is absent.
 */
export async function findWeightFiles(folder: string, options: FindWeightFilesOptions = {}): Promise<WeightFiles> {
  const present = (await readdir(folder)).sort();
  const names = new Set(present);
  const variants: readonly ('fp16' | undefined)[] = options.preferFp16 ? ['fp16', undefined] : [undefined, 'fp16'];
  const tried: string[] = [];
  for (const variant of variants) {
    for (const base of options.baseNames ?? DEFAULT_BASE_NAMES) {
      const single = variant === undefined ? `${base}.safetensors` : `${base}.${variant}.safetensors`;
      const index = variant === undefined ? `${base}.safetensors.index.json` : `${base}.safetensors.index.${variant}.json`;
      tried.push(single, index);
      if (names.has(single)) return { folder, files: [join(folder, single)], variant, indexFile: undefined };
      if (names.has(index)) {
        const indexFile = join(folder, index);
        const shards = await shardsOf(indexFile, names);
        return { folder, files: shards.map((shard) => join(folder, shard)), variant, indexFile };
      }
    }
  }
  throw new WeightFilesNotFoundError(folder, tried, present);
}

/** The distinct shard names an index's weight_map points to, checked to be files of this folder. */
async function shardsOf(indexFile: string, folderEntries: ReadonlySet<string>): Promise<string[]> {
  const index = await readJsonConfig(indexFile);
  const weightMap = index['weight_map'];
  if (!isJsonObject(weightMap)) throw new WeightIndexError(indexFile, '"weight_map" to be an object of tensor name → shard file', jsonKind(weightMap));
  const shards: string[] = [];
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new WeightIndexError(indexFile, `a plain file name for tensor ${JSON.stringify(tensor)}`, JSON.stringify(shard));
    }
    if (!shards.includes(shard)) shards.push(shard);
  }
  const absent = shards.filter((shard) => !folderEntries.has(shard));
  if (absent.length > 0) throw new WeightIndexError(indexFile, `shard files ${shards.join(', ')} in the folder`, `${absent.join(', ')} missing`);
  if (shards.length === 0) throw new WeightIndexError(indexFile, 'at least one shard in "weight_map"', 'an empty map');
  return shards;
}
