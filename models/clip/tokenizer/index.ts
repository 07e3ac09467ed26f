export {
  ClipTokenizer,
  type ClipTokenizerData,
  type ClipTokenizerOptions,
  type ClipEncodeOptions,
  type ClipEncoding,
} from './clip-tokenizer.js';
export { loadClipTokenizer } from './load.js';
export {
  parseTokenizerSettings,
  DEFAULT_CLIP_SETTINGS,
  type ClipTokenizerSettings,
  type AddedTokenSpec,
} from './tokenizer-settings.js';
export { parseVocabulary, parseMerges, mergeRanks, clipVocabularyFromMerges, CLIP_MERGE_LIMIT, type Merge } from './vocabulary.js';
export { BytePairEncoder, END_OF_WORD } from './byte-pair-encoder.js';
export { basicTokenizerWords } from './basic-normalize.js';
export { clipPieces } from './pre-tokenize.js';
export { splitOnAddedTokens, type TextSegment } from './added-tokens.js';
export { textToByteSymbols, byteSymbolsToBytes, SYMBOL_OF_BYTE, BYTE_OF_SYMBOL, BYTES_IN_VOCAB_ORDER } from './byte-symbols.js';
export { TokenizerFileError } from './errors.js';
