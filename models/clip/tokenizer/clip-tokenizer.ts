import { ArgumentError } from '../../../dsl/errors.js';
import { splitOnAddedTokens } from './added-tokens.js';
import { basicTokenizerWords } from './basic-normalize.js';
import { BytePairEncoder, END_OF_WORD } from './byte-pair-encoder.js';
import { byteSymbolsToBytes, textToByteSymbols } from './byte-symbols.js';
import { clipPieces } from './pre-tokenize.js';
import { DEFAULT_CLIP_SETTINGS, type AddedTokenSpec, type ClipTokenizerSettings } from './tokenizer-settings.js';
import { mergeRanks, type Merge } from './vocabulary.js';

export interface ClipTokenizerData {
  /** vocab.json: token → id. */
  readonly vocabulary: ReadonlyMap<string, number>;
  /** merges.txt pairs in rank order. */
  readonly merges: readonly Merge[];
  /** Special tokens, added tokens and length; CLIPTokenizer's defaults where left out. */
  readonly settings?: Partial<ClipTokenizerSettings>;
}

export interface ClipTokenizerOptions {
  /** Receives the truncation warning (default console.warn). */
  readonly warn?: (message: string) => void;
  /** Distinct pieces the BPE cache holds before it starts over. */
  readonly bpeCacheLimit?: number;
}

export interface ClipEncodeOptions {
  /** Total length including the start and end tokens (default: the folder's model_max_length, 77). */
  readonly maxLength?: number;
  /** 'max_length' (default) pads to maxLength with the pad token; 'none' leaves the ids as long as they are. */
  readonly padding?: 'max_length' | 'none';
  /** Cut the text's tokens to maxLength − 2 (default true), warning with the text that was dropped. */
  readonly truncation?: boolean;
}

export interface ClipEncoding {
  /** start token, the text's token ids, end token, then padding. */
  readonly ids: readonly number[];
  /** 1 for the start token, text tokens and end token; 0 for padding. */
  readonly attentionMask: readonly number[];
  /** Position of the first end-token id: where a CLIP text encoder pools ([EOS]); -1 if there is none. */
  readonly eosIndex: number;
  /** The text truncation removed (decoded like the reference does), if any. */
  readonly droppedText: string | undefined;
}

/**
 * transformers' CLIPTokenizer (the slow one, on the path taken when ftfy is not installed), id for id:
 * added/special tokens are cut out of the raw text first; the rest is cleaned like BasicTokenizer
 * (lowercase, NFC, control characters dropped, CJK ideographs isolated), split with CLIP's regex,
 * byte-encoded and merged with byte-level BPE.
 */
export class ClipTokenizer {
  readonly settings: ClipTokenizerSettings;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly maxLength: number;
  private readonly vocabulary: ReadonlyMap<string, number>;
  private readonly addedIds: ReadonlyMap<string, number>;
  private readonly addedTokens: readonly AddedTokenSpec[];
  private readonly tokenOfId: ReadonlyMap<number, string>;
  private readonly specialIds: ReadonlySet<number>;
  private readonly bpe: BytePairEncoder;
  private readonly warn: (message: string) => void;

  constructor(data: ClipTokenizerData, options: ClipTokenizerOptions = {}) {
    this.settings = { ...DEFAULT_CLIP_SETTINGS, ...data.settings };
    this.vocabulary = data.vocabulary;
    this.bpe = new BytePairEncoder(mergeRanks(data.merges), options.bpeCacheLimit);
    this.warn = options.warn ?? ((message) => console.warn(message));

    // Every special token is an added token too, even if the settings did not list it.
    const { bosToken, eosToken, unkToken, padToken } = this.settings;
    const added = [...this.settings.addedTokens];
    for (const content of [bosToken, eosToken, unkToken, padToken]) {
      if (!added.some((token) => token.content === content)) added.push({ content, lstrip: false, rstrip: false, special: true });
    }
    // Tokens absent from the vocabulary get fresh ids after it, as transformers' _add_tokens does.
    let nextId = data.vocabulary.size;
    for (const id of data.vocabulary.values()) nextId = Math.max(nextId, id + 1);
    for (const token of added) nextId = Math.max(nextId, (token.id ?? -1) + 1);
    const addedIds = new Map<string, number>();
    for (const token of added) addedIds.set(token.content, token.id ?? data.vocabulary.get(token.content) ?? nextId++);
    this.addedTokens = added;
    this.addedIds = addedIds;

    const tokenOfId = new Map<number, string>();
    for (const [token, id] of data.vocabulary) tokenOfId.set(id, token);
    for (const [token, id] of addedIds) tokenOfId.set(id, token);
    this.tokenOfId = tokenOfId;
    this.specialIds = new Set(added.filter((token) => token.special).map((token) => addedIds.get(token.content)!));

    this.bosId = addedIds.get(bosToken)!;
    this.eosId = addedIds.get(eosToken)!;
    this.padId = addedIds.get(padToken)!;
    this.unkId = addedIds.get(unkToken)!;
    this.maxLength = this.settings.modelMaxLength;
  }

  /** The token strings of `text`, without start/end tokens and without truncation (tok.tokenize). */
  tokenize(text: string): string[] {
    const tokens: string[] = [];
    for (const segment of splitOnAddedTokens(text, this.addedTokens)) {
      if (segment.kind === 'added') {
        tokens.push(segment.token.content);
        continue;
      }
      for (const piece of clipPieces(basicTokenizerWords(segment.text).join(' '))) {
        tokens.push(...this.bpe.encode(textToByteSymbols(piece)));
      }
    }
    return tokens;
  }

  tokenToId(token: string): number {
    return this.addedIds.get(token) ?? this.vocabulary.get(token) ?? this.unkId;
  }

  idToToken(id: number): string | undefined {
    return this.tokenOfId.get(id);
  }

  /** What the pipeline feeds the text encoder: tok(text, padding='max_length', max_length=77, truncation=True). */
  encode(text: string, options: ClipEncodeOptions = {}): ClipEncoding {
    const maxLength = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new ArgumentError(`encode: maxLength must be an integer ≥ 2 (room for the start and end tokens), got ${maxLength}`);
    }
    const textIds = this.tokenize(text).map((token) => this.tokenToId(token));
    const room = maxLength - 2;
    let kept = textIds;
    let droppedText: string | undefined;
    if ((options.truncation ?? true) && textIds.length > room) {
      kept = textIds.slice(0, room);
      droppedText = this.decode(textIds.slice(room));
      this.warn(
        'The following part of your input was truncated because CLIP can only handle sequences up to ' +
          `${maxLength} tokens: [${pythonRepr(droppedText)}]`,
      );
    }
    const ids = [this.bosId, ...kept, this.eosId];
    const attentionMask = ids.map(() => 1);
    if ((options.padding ?? 'max_length') === 'max_length') {
      while (ids.length < maxLength) {
        ids.push(this.padId);
        attentionMask.push(0);
      }
    }
    return { ids, attentionMask, eosIndex: ids.indexOf(this.eosId), droppedText };
  }

  /** Ids back to text: byte symbols to UTF-8 (invalid bytes become U+FFFD), "</w>" to spaces, trimmed. */
  decode(ids: readonly number[], options: { readonly skipSpecialTokens?: boolean } = {}): string {
    let symbols = '';
    for (const id of ids) {
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      const token = this.tokenOfId.get(id);
      if (token === undefined) throw new ArgumentError(`decode: id ${id} is not in the vocabulary (size ${this.tokenOfId.size})`);
      symbols += token;
    }
    const { bytes, unknown } = byteSymbolsToBytes(symbols);
    if (unknown.length > 0) throw new ArgumentError(`decode: tokens contain characters that stand for no byte: ${JSON.stringify(unknown.join(''))}`);
    return new TextDecoder('utf-8').decode(bytes).replaceAll(END_OF_WORD, ' ').trim();
  }
}

/** How Python prints a str inside a list, so the warning reads like the reference's. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/[\\\n\r\t\x00-\x1f\x7f]/g, (ch) =>
    ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return quote + (quote === "'" ? escaped.replaceAll("'", "\\'") : escaped) + quote;
}
