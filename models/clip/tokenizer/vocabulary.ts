import { jsonKind, parseJsonConfig } from '../../../runtime/config/read-config.js';
import { BYTES_IN_VOCAB_ORDER, SYMBOL_OF_BYTE } from './byte-symbols.js';
import { END_OF_WORD } from './byte-pair-encoder.js';
import { TokenizerFileError } from './errors.js';

export type Merge = readonly [left: string, right: string];

/** CLIP's merge table size: 49152 − 256 bytes − 2 specials; the reference ignores lines past it. */
export const CLIP_MERGE_LIMIT = 49152 - 256 - 2;

/** vocab.json: token → id. */
export function parseVocabulary(text: string, file: string): Map<string, number> {
  const json = parseJsonConfig(text, file);
  const vocabulary = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new TokenizerFileError(file, 'a non-negative integer id', jsonKind(id), `for token ${JSON.stringify(token)}`);
    }
    vocabulary.set(token, id);
  }
  return vocabulary;
}

/**
 * merges.txt: a version line, then one "left right" pair per line in rank order. Like the
 * reference, the first line is skipped whatever it says and at most CLIP_MERGE_LIMIT merges are read.
 */
export function parseMerges(text: string, file: string): Merge[] {
  const lines = text.trim().split('\n').slice(1, 1 + CLIP_MERGE_LIMIT);
  return lines.map((line, i) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new TokenizerFileError(file, 'two symbols separated by a space', JSON.stringify(line), `line ${i + 2}`);
    return [parts[0]!, parts[1]!] as const;
  });
}

/** "left right" → rank; a pair listed twice keeps its later rank, as Python's dict(zip(…)) does. */
export function mergeRanks(merges: readonly Merge[]): Map<string, number> {
  return new Map(merges.map(([left, right], rank) => [`${left} ${right}`, rank]));
}

/**
 * The vocabulary OpenAI's CLIP derives from its merges: the 256 byte symbols, the same with "</w>",
 * one token per merge in rank order, then <|startoftext|> and <|endoftext|>.
 */
export function clipVocabularyFromMerges(merges: readonly Merge[]): Map<string, number> {
  const tokens = [
    ...BYTES_IN_VOCAB_ORDER.map((byte) => SYMBOL_OF_BYTE[byte]!),
    ...BYTES_IN_VOCAB_ORDER.map((byte) => SYMBOL_OF_BYTE[byte]! + END_OF_WORD),
    ...merges.map(([left, right]) => left + right),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  return new Map(tokens.map((token, id) => [token, id]));
}

