export const END_OF_WORD = '</w>';

/** Pieces the reference never splits, because its BPE cache starts out holding them. */
const UNSPLIT_PIECES = ['<|startoftext|>', '<|endoftext|>'];

/**
 * Byte-level BPE with CLIP's end-of-word marking: the last symbol of a piece carries "</w>",
 * then the adjacent pair with the lowest merge rank is merged everywhere (left to right) until no
 * adjacent pair has a rank. Results are cached per piece, as prompts repeat the same words.
 */
export class BytePairEncoder {
  private readonly cache = new Map<string, readonly string[]>();

  /**
   * @param ranks "left right" → rank (lower merges first)
   * @param cacheLimit the cache is emptied when it reaches this many pieces, to bound memory
   */
  constructor(
    private readonly ranks: ReadonlyMap<string, number>,
    private readonly cacheLimit = 50_000,
  ) {
    for (const piece of UNSPLIT_PIECES) this.cache.set(piece, [piece]);
  }

  /** BPE tokens of one piece given as byte symbols (see textToByteSymbols). */
  encode(symbols: string): readonly string[] {
    const cached = this.cache.get(symbols);
    if (cached !== undefined) return cached;
    const tokens = this.merge(symbols);
    if (this.cache.size >= this.cacheLimit) {
      this.cache.clear();
      for (const piece of UNSPLIT_PIECES) this.cache.set(piece, [piece]);
    }
    this.cache.set(symbols, tokens);
    return tokens;
  }

  private merge(symbols: string): readonly string[] {
    // Byte symbols are all below U+0200, so one UTF-16 unit is one symbol.
    let word = symbols.split('');
    if (word.length === 0) return [];
    word[word.length - 1] += END_OF_WORD;
    while (word.length > 1) {
      let bestRank = Infinity;
      let bestLeft = '';
      let bestRight = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestLeft = word[i]!;
          bestRight = word[i + 1]!;
        }
      }
      if (bestRank === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === bestLeft && word[i + 1] === bestRight && i + 1 < word.length) {
          merged.push(bestLeft + bestRight);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word = merged;
    }
    return word;
  }
}
