/**
 * GPT-2/CLIP's reversible byte ↔ symbol table (`bytes_to_unicode`). BPE works on strings of
 * symbols, one per UTF-8 byte: printable Latin-1 bytes stand for themselves, every other byte
 * (space, control bytes, …) gets a code point from U+0100 up, so no symbol is whitespace.
 */

function buildByteOrder(): number[] {
  const inRange = (from: string, to: string): number[] =>
    Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => from.charCodeAt(0) + i);
  const printable = [...inRange('!', '~'), ...inRange('¡', '¬'), ...inRange('®', 'ÿ')];
  const rest = Array.from({ length: 256 }, (_, byte) => byte).filter((byte) => !printable.includes(byte));
  return [...printable, ...rest];
}

/** Bytes in table order: the order of vocabulary ids 0–255 (and, with "</w>", 256–511). */
export const BYTES_IN_VOCAB_ORDER: readonly number[] = Object.freeze(buildByteOrder());

/** SYMBOL_OF_BYTE[b] is the one-character symbol that stands for byte b. */
export const SYMBOL_OF_BYTE: readonly string[] = Object.freeze(
  (() => {
    const symbols = new Array<string>(256);
    let shifted = 0;
    for (const byte of BYTES_IN_VOCAB_ORDER) {
      const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
      symbols[byte] = String.fromCharCode(printable ? byte : 256 + shifted++);
    }
    return symbols;
  })(),
);

export const BYTE_OF_SYMBOL: ReadonlyMap<string, number> = new Map(SYMBOL_OF_BYTE.map((symbol, byte) => [symbol, byte]));

const utf8 = new TextEncoder();

/** A piece of text as its UTF-8 bytes' symbols. */
export function textToByteSymbols(text: string): string {
  let symbols = '';
  for (const byte of utf8.encode(text)) symbols += SYMBOL_OF_BYTE[byte]!;
  return symbols;
}

/** The bytes a symbol string stands for; characters that are no byte symbol are reported, not guessed. */
export function byteSymbolsToBytes(symbols: string): { readonly bytes: Uint8Array; readonly unknown: readonly string[] } {
  const bytes: number[] = [];
  const unknown: string[] = [];
  for (const symbol of symbols) {
    const byte = BYTE_OF_SYMBOL.get(symbol);
    if (byte === undefined) unknown.push(symbol);
    else bytes.push(byte);
  }
  return { bytes: Uint8Array.from(bytes), unknown };
}
