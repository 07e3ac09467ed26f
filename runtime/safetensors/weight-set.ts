import { ArgumentError } from '../../dsl/errors.js';
import { isFloatDtype } from './dtype.js';
import type { TensorEntry } from './header.js';
import { openSafetensors, type SafetensorsFile } from './reader.js';
import { WeightMismatchError, type WeightProblem } from './weight-errors.js';
import { findWeightFiles, type FindWeightFilesOptions } from './weight-files.js';

export interface ExpectedParameter {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface LoadWeightsOptions {
  /**
   * Maps a key as stored in a file to the parameter name it holds, for checkpoints in another
   * layout. Returning undefined skips the key without complaint (e.g. a stored position_ids buffer).
   */
  readonly rename?: (fileKey: string) => string | undefined;
  /**
   * Keys that match no expected parameter: 'error' (default) lists them in the WeightMismatchError;
   * 'allow' skips them and returns them in `unexpected` for the caller to report.
   */
  readonly unexpected?: 'error' | 'allow';
  /** Names the weight set in messages, e.g. "unet". Default: the first file's path. */
  readonly label?: string;
}

export interface WeightSource {
  readonly file: string;
  readonly fileKey: string;
  readonly entry: TensorEntry;
}

export interface LoadedWeights {
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** Where each loaded parameter came from (file, stored key, stored dtype). */
  readonly sources: ReadonlyMap<string, WeightSource>;
  /** Stored keys that matched no parameter (only non-empty with `unexpected: 'allow'`). */
  readonly unexpected: readonly WeightSource[];
}

export interface WeightPlan {
  readonly sources: ReadonlyMap<string, WeightSource>;
  readonly unexpected: readonly WeightSource[];
  readonly problems: readonly WeightProblem[];
}

/**
 * Matches the tensors stored in some files (by header only) against the expected parameters.
 * Pure: it decides what to load and collects every problem, so the caller can fail once with all of them.
 */
export function planWeightLoad(
  stored: readonly { readonly file: string; readonly entries: Iterable<TensorEntry> }[],
  expected: readonly ExpectedParameter[],
  options: Pick<LoadWeightsOptions, 'rename' | 'unexpected'> = {},
): WeightPlan {
  const expectedByName = new Map<string, ExpectedParameter>();
  for (const parameter of expected) {
    if (expectedByName.has(parameter.name)) throw new ArgumentError(`expected parameters list ${JSON.stringify(parameter.name)} twice`);
    expectedByName.set(parameter.name, parameter);
  }

  const found = new Map<string, WeightSource[]>();
  const unexpected: WeightSource[] = [];
  for (const { file, entries } of stored) {
    for (const entry of entries) {
      const name = options.rename ? options.rename(entry.name) : entry.name;
      if (name === undefined) continue;
      const source = { file, fileKey: entry.name, entry };
      if (!expectedByName.has(name)) {
        unexpected.push(source);
        continue;
      }
      const sources = found.get(name) ?? [];
      sources.push(source);
      found.set(name, sources);
    }
  }

  const problems: WeightProblem[] = [];
  const sources = new Map<string, WeightSource>();
  for (const { name, shape } of expected) {
    const candidates = found.get(name);
    if (candidates === undefined) {
      problems.push({ kind: 'missing', name, expectedShape: shape });
      continue;
    }
    if (candidates.length > 1) {
      problems.push({ kind: 'duplicate', name, sources: candidates.map(({ file, fileKey }) => ({ file, fileKey })) });
      continue;
    }
    const source = candidates[0]!;
    const { file, fileKey, entry } = source;
    if (!sameShape(entry.shape, shape)) {
      problems.push({ kind: 'shape', name, fileKey, file, expectedShape: shape, foundShape: entry.shape });
    } else if (!isFloatDtype(entry.dtype)) {
      problems.push({ kind: 'dtype', name, fileKey, file, dtype: entry.dtype });
    } else {
      sources.set(name, source);
    }
  }
  if ((options.unexpected ?? 'error') === 'error') {
    for (const { file, fileKey, entry } of unexpected) {
      problems.push({ kind: 'unexpected', fileKey, name: options.rename?.(fileKey) ?? fileKey, file, foundShape: entry.shape });
    }
  }
  return { sources, unexpected: options.unexpected === 'allow' ? unexpected : [], problems };
}

/**
 * Loads the expected parameters from one or more safetensors files as float32. Headers are checked
 * first; if anything is missing, unexpected, duplicated or mis-shaped, one WeightMismatchError
 * lists it all and no tensor data is read.
 */
export async function loadWeights(
  files: readonly string[],
  expected: readonly ExpectedParameter[],
  options: LoadWeightsOptions = {},
): Promise<LoadedWeights> {
  const opened: SafetensorsFile[] = [];
  try {
    for (const path of files) opened.push(await openSafetensors(path));
    const plan = planWeightLoad(
      opened.map((file) => ({ file: file.path, entries: file.header.tensors.values() })),
      expected,
      options,
    );
    if (plan.problems.length > 0) throw new WeightMismatchError(options.label ?? files[0] ?? '(no files)', plan.problems, expected.length);

    const byPath = new Map(opened.map((file) => [file.path, file]));
    const tensors = new Map<string, Float32Array>();
    for (const [name, source] of plan.sources) {
      tensors.set(name, await byPath.get(source.file)!.readFloat32(source.fileKey));
    }
    return { tensors, sources: plan.sources, unexpected: plan.unexpected };
  } finally {
    await Promise.all(opened.map((file) => file.close()));
  }
}

/** findWeightFiles + loadWeights for a diffusers component folder (unet/, vae/, text_encoder/ …). */
export async function loadComponentWeights(
  folder: string,
  expected: readonly ExpectedParameter[],
  options: LoadWeightsOptions & FindWeightFilesOptions = {},
): Promise<LoadedWeights> {
  const { files } = await findWeightFiles(folder, options);
  return loadWeights(files, expected, { ...options, label: options.label ?? folder });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
