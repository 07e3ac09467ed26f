import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../../../runtime/config/lenient-json.js';
import { parseJsonConfig } from '../../../runtime/config/read-config.js';
import { ClipTokenizer, type ClipTokenizerOptions } from './clip-tokenizer.js';
import { parseTokenizerSettings } from './tokenizer-settings.js';
import { parseMerges, parseVocabulary } from './vocabulary.js';

/**
 * Loads a diffusers/transformers `tokenizer/` folder: vocab.json and merges.txt (required),
 * tokenizer_config.json and special_tokens_map.json (optional; CLIPTokenizer defaults otherwise).
 */
export async function loadClipTokenizer(folder: string, options: ClipTokenizerOptions = {}): Promise<ClipTokenizer> {
  const vocabFile = join(folder, 'vocab.json');
  const mergesFile = join(folder, 'merges.txt');
  const configFile = join(folder, 'tokenizer_config.json');
  const specialFile = join(folder, 'special_tokens_map.json');
  const [vocabText, mergesText, configText, specialText] = await Promise.all([
    readFile(vocabFile, 'utf8'),
    readFile(mergesFile, 'utf8'),
    readOptional(configFile),
    readOptional(specialFile),
  ]);
  const config: JsonObject | undefined = configText === undefined ? undefined : parseJsonConfig(configText, configFile);
  const special: JsonObject | undefined = specialText === undefined ? undefined : parseJsonConfig(specialText, specialFile);
  return new ClipTokenizer(
    {
      vocabulary: parseVocabulary(vocabText, vocabFile),
      merges: parseMerges(mergesText, mergesFile),
      settings: parseTokenizerSettings(config, special, { tokenizerConfig: configFile, specialTokensMap: specialFile }),
    },
    options,
  );
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
