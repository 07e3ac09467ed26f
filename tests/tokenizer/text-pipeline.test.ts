import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  basicTokenizerWords,
  BYTE_OF_SYMBOL,
  byteSymbolsToBytes,
  BytePairEncoder,
  clipPieces,
  mergeRanks,
  splitOnAddedTokens,
  SYMBOL_OF_BYTE,
  textToByteSymbols,
  type AddedTokenSpec,
} from '../../models/clip/tokenizer/index.js';

test('byte symbols are a bijection of the 256 bytes onto characters that are neither whitespace nor control', () => {
  assert.equal(new Set(SYMBOL_OF_BYTE).size, 256);
  assert.equal(BYTE_OF_SYMBOL.size, 256);
  for (const symbol of SYMBOL_OF_BYTE) assert.doesNotMatch(symbol, /[\s\p{C}]/u);
  assert.equal(SYMBOL_OF_BYTE[0x21], '!'); // printable bytes stand for themselves
  assert.equal(SYMBOL_OF_BYTE[0x20], 'Ġ'); // space is the 33rd non-printable byte: U+0100 + 32
  assert.equal(SYMBOL_OF_BYTE[0x00], 'Ā');
});

test('any text survives the trip to byte symbols and back', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (text) => {
      const { bytes, unknown } = byteSymbolsToBytes(textToByteSymbols(text));
      return unknown.length === 0 && new TextDecoder().decode(bytes) === text;
    }),
  );
});

test('BasicTokenizer cleaning: lowercase, control and zero-width characters dropped, Zs spaces split, accents kept', () => {
  assert.deepEqual(basicTokenizerWords('  A\tPhoto\nOF\r\n a  CAT  '), ['a', 'photo', 'of', 'a', 'cat']);
  assert.deepEqual(basicTokenizerWords('zero\u200bwidth and\u00a0nbsp\u3000ideographic'), ['zerowidth', 'and', 'nbsp', 'ideographic']);
  assert.deepEqual(basicTokenizerWords('bell\u0007 nul\u0000 fffd\ufffd'), ['bell', 'nul', 'fffd']);
  assert.deepEqual(basicTokenizerWords('Déjà Vu ÇA'), ['déjà', 'vu', 'ça']); // strip_accents=False
  assert.deepEqual(basicTokenizerWords('line\u2028separator'), ['line', 'separator']); // Python's split() splits here too
});

test('BasicTokenizer cleaning: NFC composes, CJK ideographs (only) become their own words, İ lowercases as Python does', () => {
  assert.deepEqual(basicTokenizerWords('cafe\u0301'), ['caf\u00e9']);
  assert.deepEqual(basicTokenizerWords('日本語のテキスト'), ['日', '本', '語', 'のテキスト']);
  assert.deepEqual(basicTokenizerWords('한국어'), ['한국어']);
  assert.deepEqual(basicTokenizerWords('İstanbul'), ['i\u0307stanbul']);
});

test('the CLIP split: contractions, letter runs, single digits, runs of other symbols, special token strings', () => {
  assert.deepEqual(clipPieces("the cat's toy isn't red"), ['the', 'cat', "'s", 'toy', 'isn', "'t", 'red']);
  assert.deepEqual(clipPieces('2024 dogs!!!'), ['2', '0', '2', '4', 'dogs', '!!!']);
  assert.deepEqual(clipPieces('a<|endoftext|>b'), ['a', '<|endoftext|>', 'b']);
  assert.deepEqual(clipPieces('i\u0307stanbul'), ['i', '\u0307', 'stanbul']); // a combining mark is not a letter
  assert.deepEqual(clipPieces('🐱 x=1'), ['🐱', 'x', '=', '1']);
});

test('BPE: the tokens of a piece always spell the piece with "</w>" at the end, whatever the merges', () => {
  const symbol = fc.constantFrom('a', 'b', 'c', 'd');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(symbol, symbol), { maxLength: 12 }),
      fc.string({ unit: symbol, minLength: 1, maxLength: 12 }),
      (pairs, word) => {
        // Build merges the way a trainer does: each merge joins tokens that earlier merges can produce.
        const merges: [string, string][] = [];
        const tokens = new Set(['a', 'b', 'c', 'd', 'a</w>', 'b</w>', 'c</w>', 'd</w>']);
        for (const [left, right] of pairs) {
          const options = [...tokens];
          const l = options.find((t) => t.startsWith(left) && !t.endsWith('</w>')) ?? left;
          const r = options.find((t) => t.startsWith(right)) ?? right;
          merges.push([l, r]);
          tokens.add(l + r);
        }
        const encoded = new BytePairEncoder(mergeRanks(merges)).encode(word);
        return encoded.join('') === `${word}</w>` && encoded.every((token) => token.length > 0);
      },
    ),
  );
});

test('BPE applies the lowest-ranked pair first (not the leftmost) and merges overlapping runs left to right', () => {
  const bpe = new BytePairEncoder(mergeRanks([['b', 'c'], ['a', 'b'], ['a', 'bc'], ['a', 'a']]));
  // a b c d</w>: (b,c) has rank 0 and wins over the leftmost (a,b) → a bc d</w> → (a,bc) → abc d</w>
  assert.deepEqual(bpe.encode('abcd'), ['abc', 'd</w>']);
  // a a a b</w>: (a,a) merges from the left: aa a b</w>, never a aa b</w>
  assert.deepEqual(bpe.encode('aaab'), ['aa', 'a', 'b</w>']);
  assert.deepEqual(bpe.encode('x'), ['x</w>']);
});

test('added tokens are cut out of raw text leftmost-first, longest on a tie, honouring lstrip/rstrip', () => {
  const tokens: AddedTokenSpec[] = [
    { content: '<|endoftext|>', lstrip: false, rstrip: false, special: true },
    { content: '<|end', lstrip: false, rstrip: false, special: true },
    { content: '[X]', lstrip: true, rstrip: true, special: false },
  ];
  const describe = (text: string) =>
    splitOnAddedTokens(text, tokens).map((segment) => (segment.kind === 'added' ? `<${segment.token.content}>` : segment.text));
  assert.deepEqual(describe('a <|endoftext|> b'), ['a ', '<<|endoftext|>>', ' b']);
  assert.deepEqual(describe('a <|end b'), ['a ', '<<|end>', ' b']);
  assert.deepEqual(describe('left  [X]  right'), ['left', '<[X]>', 'right']);
  assert.deepEqual(describe('[X][X]'), ['<[X]>', '<[X]>']);
  assert.deepEqual(describe('plain'), ['plain']);
});
