import { isJsonObject, jsonKind } from '../../../runtime/config/read-config.js';
import type { JsonObject, JsonValue } from '../../../runtime/config/lenient-json.js';
import { TokenizerFileError } from './errors.js';

/** A string the tokenizer never splits: matched in the raw text before cleaning and kept whole. */
export interface AddedTokenSpec {
  readonly content: string;
  /** Fixed by added_tokens_decoder; otherwise the vocabulary's id (or a new one after it). */
  readonly id?: number;
  /** Swallow whitespace on that side of the token, as transformers' AddedToken does. */
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly special: boolean;
}

export interface ClipTokenizerSettings {
  readonly bosToken: string;
  readonly eosToken: string;
  /** SD 1.x pads with <|endoftext|>; SD 2.x's OpenCLIP tokenizer pads with "!" (id 0). */
  readonly padToken: string;
  readonly unkToken: string;
  readonly modelMaxLength: number;
  readonly addedTokens: readonly AddedTokenSpec[];
}

/** CLIPTokenizer's own defaults, and the 77 positions every CLIP text encoder has. */
export const DEFAULT_CLIP_SETTINGS: ClipTokenizerSettings = {
  bosToken: '<|startoftext|>',
  eosToken: '<|endoftext|>',
  padToken: '<|endoftext|>',
  unkToken: '<|endoftext|>',
  modelMaxLength: 77,
  addedTokens: [],
};

const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;
type SpecialKey = (typeof SPECIAL_KEYS)[number];

/**
 * Reads tokenizer_config.json and special_tokens_map.json as transformers does: a config saved with
 * `added_tokens_decoder` is complete on its own; an older one is overridden by the special tokens map.
 * Every special token (bos, eos, unk, pad) is also an added token, so it is matched whole in text:
 * this is why SD 2.x's pad token "!" always encodes as id 0 (diffusers#4153).
 */
export function parseTokenizerSettings(
  tokenizerConfig: JsonObject | undefined,
  specialTokensMap: JsonObject | undefined,
  files: { readonly tokenizerConfig: string; readonly specialTokensMap: string },
): ClipTokenizerSettings {
  const config = tokenizerConfig ?? {};
  const legacy = !Object.hasOwn(config, 'added_tokens_decoder');
  const special = new Map<SpecialKey, AddedTokenSpec>();
  for (const key of SPECIAL_KEYS) {
    const fromMap = legacy ? specialTokensMap?.[key] : undefined;
    const value = fromMap ?? config[key];
    if (value === undefined || value === null) continue;
    special.set(key, addedTokenOf(value, fromMap !== undefined ? files.specialTokensMap : files.tokenizerConfig, key));
  }

  const addedTokens: AddedTokenSpec[] = [];
  const decoder = config['added_tokens_decoder'];
  if (decoder !== undefined) {
    if (!isJsonObject(decoder)) throw new TokenizerFileError(files.tokenizerConfig, '"added_tokens_decoder" as an object', jsonKind(decoder));
    for (const [id, value] of Object.entries(decoder)) {
      if (!/^(0|[1-9][0-9]*)$/.test(id)) throw new TokenizerFileError(files.tokenizerConfig, 'integer ids as keys of "added_tokens_decoder"', JSON.stringify(id));
      addedTokens.push({ ...addedTokenOf(value, files.tokenizerConfig, `added_tokens_decoder.${id}`), id: Number(id) });
    }
  }
  for (const token of special.values()) {
    if (!addedTokens.some((added) => added.content === token.content)) addedTokens.push({ ...token, special: true });
  }

  const maxLength = config['model_max_length'];
  if (maxLength !== undefined && (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 2)) {
    throw new TokenizerFileError(files.tokenizerConfig, '"model_max_length" as an integer ≥ 2', JSON.stringify(maxLength));
  }
  return {
    bosToken: special.get('bos_token')?.content ?? DEFAULT_CLIP_SETTINGS.bosToken,
    eosToken: special.get('eos_token')?.content ?? DEFAULT_CLIP_SETTINGS.eosToken,
    padToken: special.get('pad_token')?.content ?? DEFAULT_CLIP_SETTINGS.padToken,
    unkToken: special.get('unk_token')?.content ?? DEFAULT_CLIP_SETTINGS.unkToken,
    // transformers' "no limit" sentinel (1e30) is no use to a 77-position text encoder.
    modelMaxLength: typeof maxLength === 'number' && maxLength < 1e9 ? maxLength : DEFAULT_CLIP_SETTINGS.modelMaxLength,
    addedTokens,
  };
}

/** A token given as a string or as a serialised AddedToken ({content, lstrip, rstrip, …}). */
function addedTokenOf(value: JsonValue, file: string, key: string): AddedTokenSpec {
  if (typeof value === 'string') return { content: value, lstrip: false, rstrip: false, special: true };
  if (isJsonObject(value) && typeof value['content'] === 'string') {
    return {
      content: value['content'],
      lstrip: value['lstrip'] === true,
      rstrip: value['rstrip'] === true,
      special: value['special'] !== false,
    };
  }
  throw new TokenizerFileError(file, `"${key}" as a string or an object with a string "content"`, jsonKind(value));
}
