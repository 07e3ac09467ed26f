import type { AddedTokenSpec } from './tokenizer-settings.js';

export type TextSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'added'; readonly token: AddedTokenSpec };

const LEADING_WHITESPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const TRAILING_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/**
 * Cuts raw text at every occurrence of an added token (leftmost first, longest on a tie), as
 * transformers does before any cleaning: the token strings are matched case-sensitively and kept
 * whole. lstrip / rstrip tokens swallow the whitespace beside them.
 */
export function splitOnAddedTokens(text: string, tokens: readonly AddedTokenSpec[]): TextSegment[] {
  const segments: TextSegment[] = [];
  let at = 0;
  while (at <= text.length) {
    let found: { index: number; token: AddedTokenSpec } | undefined;
    for (const token of tokens) {
      if (token.content === '') continue;
      const index = text.indexOf(token.content, at);
      if (index === -1) continue;
      if (found === undefined || index < found.index || (index === found.index && token.content.length > found.token.content.length)) {
        found = { index, token };
      }
    }
    if (found === undefined) {
      segments.push({ kind: 'text', text: text.slice(at) });
      break;
    }
    segments.push({ kind: 'text', text: text.slice(at, found.index) }, { kind: 'added', token: found.token });
    at = found.index + found.token.content.length;
    if (at === text.length) break;
  }

  return segments
    .map((segment, i): TextSegment => {
      if (segment.kind === 'added') return segment;
      const before = segments[i - 1];
      const after = segments[i + 1];
      let piece = segment.text;
      if (before?.kind === 'added' && before.token.rstrip) piece = piece.replace(LEADING_WHITESPACE, '');
      if (after?.kind === 'added' && after.token.lstrip) piece = piece.replace(TRAILING_WHITESPACE, '');
      return { kind: 'text', text: piece };
    })
    .filter((segment) => segment.kind === 'added' || segment.text !== '');
}
