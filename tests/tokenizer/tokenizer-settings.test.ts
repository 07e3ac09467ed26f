import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadClipTokenizer, parseMerges, parseTokenizerSettings, TokenizerFileError } from '../../models/clip/tokenizer/index.js';
import { goldenPath } from '../support/golden.js';

const goldenFolder = goldenPath('tokenizer-clip-small', 'tokenizer');
const scratch = await mkdtemp(join(tmpdir(), 'kiln-tok-'));
after(() => rm(scratch, { recursive: true, force: true }));
const files = { tokenizerConfig: 'tokenizer_config.json', specialTokensMap: 'special_tokens_map.json' };

test('an SD 2.x-style (legacy) config: special_tokens_map overrides, "!" becomes the pad token, AddedToken dicts are read', () => {
  const settings = parseTokenizerSettings(
    { bos_token: { __type: 'AddedToken', content: '<|startoftext|>' }, pad_token: '<|endoftext|>', model_max_length: 77, do_lower_case: true },
    { pad_token: '!', unk_token: { content: '<|endoftext|>', lstrip: false, rstrip: false } },
    files,
  );
  assert.equal(settings.padToken, '!');
  assert.equal(settings.bosToken, '<|startoftext|>');
  assert.equal(settings.unkToken, '<|endoftext|>');
  assert.equal(settings.eosToken, '<|endoftext|>'); // CLIPTokenizer's default
  assert.deepEqual(settings.addedTokens.map((token) => token.content).sort(), ['!', '<|endoftext|>', '<|startoftext|>']);
});

test('a config saved with added_tokens_decoder is complete on its own: the special tokens map is not consulted', () => {
  const settings = parseTokenizerSettings(
    { added_tokens_decoder: { '5': { content: '<x>', rstrip: true } }, pad_token: '<|endoftext|>' },
    { pad_token: '!' },
    files,
  );
  assert.equal(settings.padToken, '<|endoftext|>');
  assert.deepEqual(settings.addedTokens[0], { content: '<x>', id: 5, lstrip: false, rstrip: true, special: true });
});

test("transformers' 'no limit' model_max_length falls back to CLIP's 77, and a missing config gives CLIPTokenizer's defaults", () => {
  assert.equal(parseTokenizerSettings({ model_max_length: 1e30 }, undefined, files).modelMaxLength, 77);
  assert.equal(parseTokenizerSettings({ model_max_length: 64 }, undefined, files).modelMaxLength, 64);
  const defaults = parseTokenizerSettings(undefined, undefined, files);
  assert.deepEqual([defaults.bosToken, defaults.eosToken, defaults.padToken, defaults.modelMaxLength], ['<|startoftext|>', '<|endoftext|>', '<|endoftext|>', 77]);
});

test('malformed settings and merges fail naming the file, the place and what was expected', () => {
  assert.throws(() => parseTokenizerSettings({ model_max_length: 'long' }, undefined, files), (e: unknown) =>
    e instanceof TokenizerFileError && /tokenizer_config\.json: expected "model_max_length" as an integer ≥ 2, found "long"/.test(e.message));
  assert.throws(() => parseTokenizerSettings({ pad_token: 3 }, undefined, files), /"pad_token" as a string or an object with a string "content", found a number/);
  assert.throws(() => parseMerges('#version: 0.2\na b\nc d e\n', 'merges.txt'), (e: unknown) =>
    e instanceof TokenizerFileError && /merges\.txt line 3: expected two symbols separated by a space, found "c d e"/.test(e.message));
});

test('merges.txt is read like the reference: header skipped, CRLF and surrounding whitespace ignored', () => {
  assert.deepEqual(parseMerges('#version: 0.2\r\nt h\r\nth e</w>\r\n\n', 'merges.txt'), [['t', 'h'], ['th', 'e</w>']]);
});

test('a folder with a longer model_max_length and without special_tokens_map.json pads to that length', async () => {
  const folder = join(scratch, 'long');
  await cp(goldenFolder, folder, { recursive: true });
  await rm(join(folder, 'special_tokens_map.json'));
  const config = JSON.parse(await readFile(join(folder, 'tokenizer_config.json'), 'utf8'));
  await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ ...config, model_max_length: 90 }));
  const tokenizer = await loadClipTokenizer(folder);
  const { ids } = tokenizer.encode('a photo of a cat');
  assert.equal(ids.length, 90);
  assert.deepEqual(ids.slice(0, 8), [812, 320, 527, 515, 320, 541, 813, 813]);
});

test('a vocab.json with a non-integer id is rejected naming the token', async () => {
  const folder = join(scratch, 'bad-vocab');
  await cp(goldenFolder, folder, { recursive: true });
  await writeFile(join(folder, 'vocab.json'), '{"!": 0, "a": "one"}');
  await assert.rejects(loadClipTokenizer(folder), (e: unknown) =>
    e instanceof TokenizerFileError && /vocab\.json for token "a": expected a non-negative integer id, found a string/.test(e.message));
});
