import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BYTES_IN_VOCAB_ORDER,
  ClipTokenizer,
  clipVocabularyFromMerges,
  parseMerges,
} from '../../models/clip/tokenizer/index.js';
import { readOpenAiClipMerges } from './openai-clip-merges.js';

/*
 * The real CLIP vocabulary (49,408 tokens) built from OpenAI's merges the way the reference does.
 * Expected ids are derived from the algorithm, not copied from another tokenizer:
 *   ids 0–255     one per byte symbol, in bytes_to_unicode order ('!' is 0, 'a' is 64)
 *   ids 256–511   the same symbols ending a word ("a</w>" is 256 + 64 = 320)
 *   id 512 + r    the token produced by merge rank r (the r-th line after the header)
 *   49406, 49407  <|startoftext|>, <|endoftext|>
 * Each expected id below is computed from those rules with the merge the comment names, and the
 * well-known literal ids of Stable Diffusion prompts are checked alongside.
 */
const merges = parseMerges(await readOpenAiClipMerges(), 'bpe_simple_vocab_16e6.txt');
const vocabulary = clipVocabularyFromMerges(merges);
const warnings: string[] = [];
const tokenizer = new ClipTokenizer({ vocabulary, merges }, { warn: (message) => warnings.push(message) });

const byteId = (ch: string): number => BYTES_IN_VOCAB_ORDER.indexOf(ch.charCodeAt(0));
const wordEndId = (ch: string): number => 256 + byteId(ch);
function mergeId(left: string, right: string): number {
  const rank = merges.findIndex(([l, r]) => l === left && r === right);
  assert.ok(rank >= 0, `merge "${left} ${right}" should exist`);
  return 512 + rank;
}
const START = 49406;
const END = 49407;
const textIds = (text: string): number[] => tokenizer.encode(text, { padding: 'none' }).ids.slice(1, -1);

test('the vocabulary has the layout the reference builds: 49,408 ids, bytes, word-final bytes, merges, specials', () => {
  assert.equal(merges.length, 48_894);
  assert.equal(vocabulary.size, 49_408);
  assert.equal(vocabulary.get('!'), 0);
  assert.equal(vocabulary.get('a'), 64);
  assert.equal(vocabulary.get('!</w>'), 256);
  assert.equal(vocabulary.get('in'), 512); // first merge line: "i n"
  assert.deepEqual([tokenizer.bosId, tokenizer.eosId, tokenizer.padId], [START, END, END]);
});

test('words that are merge results are single tokens: "a photo of a cat"', () => {
  // photo: p h o t o</w> → (t, o</w>) → (h, o) → (p, ho) → (pho, to</w>) = "photo</w>"
  // cat:   c a t</w> → (a, t</w>) → (c, at</w>) = "cat</w>";  a: the lone symbol "a</w>";  of: (o, f</w>)
  const expected = [START, wordEndId('a'), mergeId('pho', 'to</w>'), mergeId('o', 'f</w>'), wordEndId('a'), mergeId('c', 'at</w>'), END];
  assert.deepEqual(tokenizer.encode('a photo of a cat', { padding: 'none' }).ids, expected);
  assert.deepEqual(expected, [49406, 320, 1125, 539, 320, 2368, 49407]);
  assert.deepEqual(textIds('A PHOTO of a Cat'), expected.slice(1, -1)); // lowercased first
});

test('punctuation is its own piece: "!" alone is "!</w>", and runs of it merge like words', () => {
  // hello: last merge (h, ello</w>); world: last merge (wor, ld</w>); "!" is a separate piece ending a word.
  assert.deepEqual(textIds('hello world!'), [mergeId('h', 'ello</w>'), mergeId('wor', 'ld</w>'), wordEndId('!')]);
  // "!!" = (!, !</w>);  "!!!" = (!, !</w>) then (!, !!</w>)
  assert.deepEqual(textIds('! !! !!!'), [256, mergeId('!', '!</w>'), mergeId('!', '!!</w>')]);
  assert.deepEqual(textIds('! !! !!!'), [256, 748, 995]);
});

test('accented words are encoded as their UTF-8 bytes: "café" and "naïve"', () => {
  // é is C3 A9, whose symbols are "Ã" and "©": c a f Ã ©</w> → (a, f) → (c, af) → (Ã, ©</w>) → (caf, Ã©</w>)
  assert.deepEqual(textIds('café'), [mergeId('caf', 'Ã©</w>')]);
  assert.deepEqual(textIds('cafe\u0301'), textIds('café')); // NFC composes e + combining acute first
  // ï is C3 AF ("Ã", "¯"): n a Ã ¯ v e</w> → (v, e</w>) → (n, a) → (Ã, ¯); no merge joins what is left
  assert.deepEqual(textIds('naïve'), [mergeId('n', 'a'), mergeId('Ã', '¯'), mergeId('v', 'e</w>')]);
  assert.deepEqual(textIds('naïve'), [1097, 35689, 563]);
});

test('numbers split into one token per digit, each ending a word', () => {
  // [\p{N}] matches one digit at a time, so each digit is a piece of one symbol: "1</w>" = 256 + byte index of "1".
  assert.deepEqual(textIds('1234'), ['1', '2', '3', '4'].map(wordEndId));
  assert.deepEqual(textIds('1234'), [272, 273, 274, 275]);
  assert.deepEqual(textIds('3.5'), [wordEndId('3'), wordEndId('.'), wordEndId('5')]);
});

test('special token strings: matched case-sensitively in raw text, and in any case via the pre-seeded BPE cache', () => {
  // Exact "<|endoftext|>" is an added token, cut out before cleaning. "<|ENDOFTEXT|>" is not, but cleaning
  // lowercases it, the CLIP regex keeps it as one piece, and the reference's BPE cache starts out mapping
  // that piece to itself, so it still becomes the end token rather than a run of punctuation tokens.
  assert.deepEqual(textIds('a<|endoftext|>'), [320, END]);
  assert.deepEqual(textIds('a <|ENDOFTEXT|>'), [320, END]);
  assert.deepEqual(tokenizer.tokenize('<|startoftext|>'), ['<|startoftext|>']);
});

test('an over-long prompt keeps its first 75 tokens between start and end, and the warning names what was dropped', () => {
  warnings.length = 0;
  const prompt = Array.from({ length: 80 }, () => 'cat').join(' ');
  const { ids, attentionMask, eosIndex, droppedText } = tokenizer.encode(prompt);
  assert.deepEqual(ids, [START, ...new Array(75).fill(mergeId('c', 'at</w>')), END]);
  assert.deepEqual(attentionMask, new Array(77).fill(1));
  assert.equal(eosIndex, 76);
  assert.equal(droppedText, 'cat cat cat cat cat');
  assert.deepEqual(warnings, [
    "The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ['cat cat cat cat cat']",
  ]);
  tokenizer.encode(Array.from({ length: 75 }, () => 'cat').join(' '));
  assert.equal(warnings.length, 1, 'exactly 75 text tokens fit without a warning');
});

test('an SD 2.x tokenizer pads with "!" (id 0), and like the reference treats every "!" as that special token', () => {
  const sd2 = new ClipTokenizer({ vocabulary, merges, settings: { padToken: '!' } });
  const { ids, attentionMask, eosIndex } = sd2.encode('a cat');
  assert.deepEqual(ids, [START, 320, 2368, END, ...new Array(73).fill(0)]);
  assert.equal(attentionMask.reduce((a, b) => a + b, 0), 4);
  assert.equal(eosIndex, 3);
  // transformers adds the pad token to its added tokens, which are cut out of the text before BPE:
  // "! !! !!!" becomes six separate "!" tokens of id 0 (diffusers issue #4153), unlike OpenCLIP's 256, 748, 995.
  assert.deepEqual(sd2.encode('! !! !!!', { padding: 'none' }).ids, [START, 0, 0, 0, 0, 0, 0, END]);
});

test('the BPE cache is invisible: encoding the same prompt again, or after many others, gives the same ids', () => {
  const small = new ClipTokenizer({ vocabulary, merges }, { bpeCacheLimit: 4 });
  const prompt = 'an astronaut riding a horse on the moon, detailed oil painting';
  const first = small.encode(prompt).ids;
  for (const other of ['red fox', 'blue whale swimming', 'city at night']) small.encode(other);
  assert.deepEqual(small.encode(prompt).ids, first);
  assert.deepEqual(first, tokenizer.encode(prompt).ids);
  assert.ok(first.slice(1, first.indexOf(END)).every((id) => id !== END && id < START));
});
