import { KilnError } from '../../../dsl/errors.js';

/** A tokenizer file (vocab.json, merges.txt, tokenizer_config.json, …) that is not what CLIPTokenizer reads. */
export class TokenizerFileError extends KilnError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly found: string,
    where?: string,
  ) {
    super(`${file}${where === undefined ? '' : ` ${where}`}: expected ${expected}, found ${found}`);
  }
}
