import { KilnError } from '../../dsl/errors.js';

/**
 * A safetensors file that breaks the format, or a request the file cannot satisfy. Every subclass
 * names the file; byte offsets are absolute positions in the file unless the message says otherwise.
 */
export abstract class SafetensorsError extends KilnError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** The file ends before what its own header promises (the usual result of an interrupted download). */
export class SafetensorsTruncatedError extends SafetensorsError {
  constructor(
    path: string,
    readonly expectedBytes: number,
    readonly foundBytes: number,
    what: string,
  ) {
    super(path, `file truncated: expected ${expectedBytes} bytes (${what}), found ${foundBytes}`);
  }
}

/** The 8-byte little-endian header length at byte 0 points past the end of the file (or is absurd). */
export class SafetensorsHeaderLengthError extends SafetensorsError {
  constructor(
    path: string,
    readonly headerLength: bigint,
    readonly limit: number,
    why: string,
  ) {
    super(path, `header length at byte 0 is ${headerLength}; expected at most ${limit} (${why})`);
  }
}

/** The header bytes are not UTF-8 JSON of the form the format requires (bad syntax, duplicate keys). */
export class SafetensorsHeaderJsonError extends SafetensorsError {
  constructor(
    path: string,
    readonly byteOffset: number,
    detail: string,
  ) {
    super(path, `header is not valid JSON at byte ${byteOffset}: ${detail}`);
  }
}

/** The header parsed, but is not a JSON object. */
export class SafetensorsHeaderNotObjectError extends SafetensorsError {
  constructor(
    path: string,
    readonly foundKind: string,
  ) {
    super(path, `header (from byte 8) must be a JSON object of tensor entries, found ${foundKind}`);
  }
}

/** One header entry (or __metadata__) is not `{dtype, shape, data_offsets}` / a string→string map. */
export class SafetensorsEntryError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(path, `header entry ${JSON.stringify(tensorName)}: expected ${expected}, found ${found}`);
  }
}

/** A dtype the safetensors format does not define. */
export class SafetensorsUnknownDtypeError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    readonly dtype: string,
    known: readonly string[],
  ) {
    super(path, `tensor ${JSON.stringify(tensorName)}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${known.join(', ')}`);
  }
}

/** data_offsets span a byte count other than shape × dtype size. */
export class SafetensorsSizeMismatchError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    readonly expectedBytes: number | undefined,
    readonly foundBytes: number,
    readonly byteOffset: number,
    description: string,
  ) {
    super(
      path,
      `tensor ${JSON.stringify(tensorName)} (${description}) needs ` +
        `${expectedBytes === undefined ? 'a whole number of' : expectedBytes} bytes, ` +
        `but its data_offsets span ${foundBytes} bytes (at byte ${byteOffset})`,
    );
  }
}

/** data_offsets that are inverted or point outside the data section. */
export class SafetensorsOffsetRangeError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    readonly begin: number,
    readonly end: number,
    readonly dataLength: number,
    readonly dataStart: number,
  ) {
    super(
      path,
      `tensor ${JSON.stringify(tensorName)}: data_offsets [${begin}, ${end}] must satisfy 0 ≤ begin ≤ end ≤ ${dataLength} ` +
        `(the data section is bytes ${dataStart}..${dataStart + dataLength} of the file)`,
    );
  }
}

/** Two tensors claim the same bytes. */
export class SafetensorsOverlapError extends SafetensorsError {
  constructor(
    path: string,
    readonly first: string,
    readonly second: string,
    readonly overlapBegin: number,
    readonly overlapEnd: number,
  ) {
    super(
      path,
      `tensors ${JSON.stringify(first)} and ${JSON.stringify(second)} overlap at file bytes ${overlapBegin}..${overlapEnd}; ` +
        `expected each byte of the data section to belong to exactly one tensor`,
    );
  }
}

/** Bytes of the data section that no tensor uses: the format forbids holes (they enable polyglot files). */
export class SafetensorsGapError extends SafetensorsError {
  constructor(
    path: string,
    readonly gapBegin: number,
    readonly gapEnd: number,
    where: string,
  ) {
    super(
      path,
      `file bytes ${gapBegin}..${gapEnd} (${gapEnd - gapBegin} bytes, ${where}) belong to no tensor; ` +
        `expected the tensors to cover the data section without holes`,
    );
  }
}

/** A tensor name that is not in the file. */
export class SafetensorsTensorNotFoundError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    available: readonly string[],
  ) {
    const sample = available.slice(0, 5).map((name) => JSON.stringify(name)).join(', ');
    super(
      path,
      `no tensor named ${JSON.stringify(tensorName)}; the file holds ${available.length} tensors` +
        (available.length > 0 ? ` (${sample}${available.length > 5 ? ', …' : ''})` : ''),
    );
  }
}

/** A tensor whose dtype cannot become the requested element type (e.g. I64 as float32, F8 at all). */
export class SafetensorsDtypeConversionError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
    readonly dtype: string,
    wanted: string,
    accepted: readonly string[],
  ) {
    super(path, `tensor ${JSON.stringify(tensorName)} has dtype ${dtype}; reading it as ${wanted} needs one of ${accepted.join(', ')}`);
  }
}

/** writeSafetensors was given tensors it cannot write faithfully. */
export class SafetensorsWriteError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string | undefined,
    problem: string,
  ) {
    super(path, tensorName === undefined ? problem : `tensor ${JSON.stringify(tensorName)}: ${problem}`);
  }
}
