/**
 * CLIP's split of cleaned text into pieces that BPE encodes independently: the two special token
 * strings, English contractions, runs of letters, single digits, and runs of other non-space symbols.
 * Case-insensitive like the reference (the text is already lowercase, so this only matters for
 * characters whose case folding differs from their lowercase).
 */
const CLIP_PIECE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export function clipPieces(text: string): string[] {
  return text.match(CLIP_PIECE) ?? [];
}
