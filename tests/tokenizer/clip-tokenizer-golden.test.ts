import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { loadClipTokenizer } from '../../models/clip/tokenizer/index.js';
import { goldenPath } from '../support/golden.js';

const caseDir = goldenPath('tokenizer-clip-small');
const goldenIds: Record<string, number[]> = JSON.parse(await readFile(`${caseDir}/tokens.json`, 'utf8'));
const goldenTokens: Record<string, string[]> = JSON.parse(await readFile(`${caseDir}/token_strings.json`, 'utf8'));
const warnings: string[] = [];
const tokenizer = await loadClipTokenizer(`${caseDir}/tokenizer`, { warn: (message) => warnings.push(message) });

test('the golden case covers 33 strings, and its vocabulary has the ids case.json states', () => {
  assert.equal(Object.keys(goldenIds).length, 33);
  assert.deepEqual(Object.keys(goldenTokens).sort(), Object.keys(goldenIds).sort());
  assert.deepEqual([tokenizer.bosId, tokenizer.eosId, tokenizer.padId, tokenizer.unkId, tokenizer.maxLength], [812, 813, 813, 813, 77]);
});

test('input ids match the reference exactly for every golden string, padding and truncation included', async (t) => {
  for (const [text, expected] of Object.entries(goldenIds)) {
    await t.test(JSON.stringify(text).slice(0, 60), () => assert.deepEqual(tokenizer.encode(text).ids, expected));
  }
});

test('BPE token strings match tok.tokenize() for every golden string (untruncated, specials inside text kept whole)', async (t) => {
  for (const [text, expected] of Object.entries(goldenTokens)) {
    await t.test(JSON.stringify(text).slice(0, 60), () => assert.deepEqual(tokenizer.tokenize(text), expected));
  }
});

test('the attention mask covers start, text and end tokens only, and eosIndex is the first end token (the pooling position)', () => {
  for (const [text, expected] of Object.entries(goldenIds)) {
    const { attentionMask, eosIndex, ids } = tokenizer.encode(text);
    const textLength = Math.min(goldenTokens[text]!.length, 75);
    assert.deepEqual(attentionMask, ids.map((_, i) => (i < textLength + 2 ? 1 : 0)), text);
    assert.equal(eosIndex, expected.indexOf(813), text);
  }
  // A literal <|endoftext|> in the prompt is the first end token, as CLIP's argmax / first-eos pooling sees it.
  assert.equal(tokenizer.encode('<|startoftext|>a cat<|endoftext|>').eosIndex, 4);
});

test('only the over-long string warns, naming the dropped text the way diffusers does', () => {
  warnings.length = 0;
  for (const text of Object.keys(goldenIds)) tokenizer.encode(text);
  assert.equal(warnings.length, 1);
  assert.equal(
    warnings[0],
    'The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ' +
      "['on the top left of a small green triangle , a red circle and a blue square on the top left of a small green triangle ,']",
  );
  const long = Object.keys(goldenIds).find((text) => goldenTokens[text]!.length > 75)!;
  const { droppedText } = tokenizer.encode(long);
  // The dropped tokens are exactly those after the 75th, decoded.
  assert.equal(droppedText, tokenizer.decode(goldenTokens[long]!.slice(75).map((token) => tokenizer.tokenToId(token))));
});

test('without truncation or padding the ids are start, every text token, end', () => {
  for (const [text, tokens] of Object.entries(goldenTokens)) {
    const { ids } = tokenizer.encode(text, { truncation: false, padding: 'none' });
    assert.deepEqual(ids, [812, ...tokens.map((token) => tokenizer.tokenToId(token)), 813], text);
  }
});

test('decoding ids gives the cleaned text back, one space wherever a word ended', () => {
  const cases: [string, string][] = [
    ['A Photo  of a CAT', 'a photo of a cat'],
    ['naïve façade déjà vu', 'naïve façade déjà vu'],
    ['🐱 cat emoji 🐶', '🐱 cat emoji 🐶'],
    ['x=1+2*3/4-5', 'x = 1 + 2 * 3 / 4 - 5'], // every piece of the CLIP split ends a word
    ['日本語のテキスト', '日 本 語 のテキスト'], // CJK ideographs become words of their own; kana do not
  ];
  for (const [text, decoded] of cases) {
    assert.equal(tokenizer.decode(tokenizer.encode(text, { padding: 'none' }).ids, { skipSpecialTokens: true }), decoded, text);
  }
});

test('the pipeline folder of the single-file case (older special_tokens_map layout) tokenizes identically', async () => {
  const pipelineTokenizer = await loadClipTokenizer(goldenPath('single-file-sd15-tiny', 'pipeline', 'tokenizer'), { warn: () => {} });
  for (const [text, expected] of Object.entries(goldenIds)) assert.deepEqual(pipelineTokenizer.encode(text).ids, expected, text);
});
