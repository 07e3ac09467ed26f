/**
 * The text cleaning transformers' CLIPTokenizer does when ftfy is not installed:
 * BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False,
 * tokenize_chinese_chars=True). Accents are kept, punctuation is left for the CLIP regex.
 */

const CONTROL = /\p{C}/u;
const SPACE_SEPARATOR = /\p{Zs}/u;
/** Python's str.split() whitespace (str.isspace), which is not JavaScript's \s. */
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** The CJK ideograph blocks BasicTokenizer surrounds with spaces (not kana, not hangul). */
function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Drops NUL, U+FFFD and every C* character except \t \n \r; turns those and Zs into plain spaces; isolates CJK ideographs. */
function cleanCharacters(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const isTabOrNewline = ch === '\t' || ch === '\n' || ch === '\r';
    if (cp === 0 || cp === 0xfffd || (!isTabOrNewline && CONTROL.test(ch))) continue;
    if (isTabOrNewline || ch === ' ' || SPACE_SEPARATOR.test(ch)) out += ' ';
    else if (isCjkIdeograph(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

/** The lowercased, NFC-normalised, whitespace-separated words of `text`, as BasicTokenizer.tokenize returns them. */
export function basicTokenizerWords(text: string): string[] {
  const normalized = cleanCharacters(text).normalize('NFC');
  return normalized
    .split(PYTHON_WHITESPACE)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}
