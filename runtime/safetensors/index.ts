export { openSafetensors, withSafetensors, type SafetensorsFile, type TypedTensor } from './reader.js';
export { writeSafetensors, type TensorToWrite, type TensorsToWrite } from './writer.js';
export {
  parseSafetensorsHeader,
  checkHeaderLength,
  MAX_HEADER_LENGTH,
  type SafetensorsHeader,
  type TensorEntry,
} from './header.js';
export {
  SAFETENSORS_DTYPE_BITS,
  isDtype,
  isFloatDtype,
  isReadableDtype,
  byteLengthOf,
  elementCountOf,
  viewAs,
  type Dtype,
  type FloatDtype,
  type ReadableDtype,
  type TypedArrayOf,
} from './dtype.js';
export { halfBitsToFloat32, bfloat16BitsToFloat32, float32ToHalfBits } from './half-float.js';
export {
  SafetensorsError,
  SafetensorsTruncatedError,
  SafetensorsHeaderLengthError,
  SafetensorsHeaderJsonError,
  SafetensorsHeaderNotObjectError,
  SafetensorsEntryError,
  SafetensorsUnknownDtypeError,
  SafetensorsSizeMismatchError,
  SafetensorsOffsetRangeError,
  SafetensorsOverlapError,
  SafetensorsGapError,
  SafetensorsTensorNotFoundError,
  SafetensorsDtypeConversionError,
  SafetensorsWriteError,
} from './errors.js';
export { findWeightFiles, type WeightFiles, type FindWeightFilesOptions } from './weight-files.js';
export {
  loadWeights,
  loadComponentWeights,
  planWeightLoad,
  type ExpectedParameter,
  type LoadWeightsOptions,
  type LoadedWeights,
  type WeightPlan,
  type WeightSource,
} from './weight-set.js';
export { WeightMismatchError, WeightFilesNotFoundError, WeightIndexError, type WeightProblem } from './weight-errors.js';
