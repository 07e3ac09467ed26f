"""CLIP byte-level BPE: a pure-Python CLIPTokenizer (transformers' slow path without ftfy)
and the BPE trainer that builds kiln-shapes' vocabulary (the same procedure as the golden
tokenizer-clip-small case: vocab = 256 byte symbols, 256 symbols + '</w>', one token per
merge, then <|startoftext|>, <|endoftext|>)."""
import json
import os
import unicodedata

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()


def _is_letter(c):
    return unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def clip_split(text):
    """re.findall of CLIP's pattern (without the special tokens, handled before)."""
    out, i, n = [], 0, len(text)
    low = text.lower()
    while i < n:
        c = text[i]
        m = next((p for p in CONTRACTIONS if low.startswith(p, i)), None)
        if m:
            out.append(text[i:i + len(m)]); i += len(m)
        elif _is_letter(c):
            j = i
            while j < n and _is_letter(text[j]):
                j += 1
            out.append(text[i:j]); i = j
        elif _is_number(c):
            out.append(c); i += 1
        elif c.isspace():
            i += 1
        else:
            j = i
            while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                j += 1
            out.append(text[i:j]); i = j
    return out


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    """transformers BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False)."""
    o = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or (c not in "\t\n\r" and unicodedata.category(c).startswith("C")):
            continue
        if c in " \t\n\r" or unicodedata.category(c) == "Zs":
            o.append(" ")
        elif _is_cjk(cp):
            o.append(" " + c + " ")
        else:
            o.append(c)
    text = unicodedata.normalize("NFC", "".join(o))
    return [t.lower() for t in text.split()]


class CLIPTokenizer:
    def __init__(self, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")[1:]
        merges = [tuple(l.split()) for l in lines if l.strip()]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.bos, self.eos = self.encoder[BOS], self.encoder[EOS]
        self.cache = {}
        cfgp = os.path.join(folder, "tokenizer_config.json")
        self.model_max_length = 77
        if os.path.exists(cfgp):
            with open(cfgp) as f:
                self.model_max_length = json.load(f).get("model_max_length", 77)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            nw, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    nw.append(word[i] + word[i + 1]); i += 2
                else:
                    nw.append(word[i]); i += 1
            word = nw
        self.cache[token] = word
        return word

    def tokenize(self, text):
        out = []
        # split on the special tokens first
        chunks = [text]
        for sp in (BOS, EOS):
            nc = []
            for ch in chunks:
                if ch in (BOS, EOS):
                    nc.append(ch); continue
                parts = ch.split(sp)
                for k, p in enumerate(parts):
                    if k:
                        nc.append(sp)
                    nc.append(p)
            chunks = nc
        for ch in chunks:
            if ch in (BOS, EOS):
                out.append(ch); continue
            if not ch:
                continue
            t = " ".join(basic_tokenize(ch))
            for piece in clip_split(t):
                sym = "".join(BYTE_ENC[b] for b in piece.encode("utf-8"))
                out.extend(self.bpe(sym))
        return out

    def encode(self, text):
        return [self.encoder[t] for t in self.tokenize(text)]

    def __call__(self, text, max_length=None):
        L = max_length or self.model_max_length
        ids = self.encode(text)[:L - 2]
        ids = [self.bos] + ids + [self.eos]
        return ids + [self.eos] * (L - len(ids))


def train_bpe(lines, n_merges=None):
    """Returns (vocab dict, merges list). n_merges None: merge until every word is one token."""
    freq = {}
    for line in lines:
        line = " ".join(line.split()).strip().lower()
        for piece in clip_split(line):
            sym = tuple("".join(BYTE_ENC[b] for b in piece.encode("utf-8")))
            sym = sym[:-1] + (sym[-1] + "</w>",)
            freq[sym] = freq.get(sym, 0) + 1
    base = list(BYTE_ENC.values())
    vocab_list = base + [b + "</w>" for b in base]
    vocab_set = set(vocab_list)
    merges = []
    words = dict(freq)
    while n_merges is None or len(merges) < n_merges:
        counts = {}
        for w, f in words.items():
            for i in range(len(w) - 1):
                p = (w[i], w[i + 1])
                counts[p] = counts.get(p, 0) + f
        cands = [(-c, p) for p, c in counts.items() if p[0] + p[1] not in vocab_set]
        if not cands:
            break
        _, best = min(cands)
        merges.append(best)
        tok = best[0] + best[1]
        vocab_list.append(tok)
        vocab_set.add(tok)
        nw = {}
        for w, f in words.items():
            if len(w) > 1:
                o, i = [], 0
                while i < len(w):
                    if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                        o.append(tok); i += 2
                    else:
                        o.append(w[i]); i += 1
                w = tuple(o)
            nw[w] = nw.get(w, 0) + f
        words = nw
    vocab_list += [BOS, EOS]
    return {t: i for i, t in enumerate(vocab_list)}, merges


def write_tokenizer(folder, vocab, merges, model_max_length):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(a + " " + b + "\n")
    tok = lambda c: {"content": c, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
    cfg = {
        "added_tokens_decoder": {str(vocab[BOS]): dict(tok(BOS), special=True), str(vocab[EOS]): dict(tok(EOS), special=True)},
        "bos_token": BOS, "clean_up_tokenization_spaces": False, "eos_token": EOS, "errors": "replace",
        "extra_special_tokens": {}, "model_max_length": model_max_length, "pad_token": EOS,
        "tokenizer_class": "CLIPTokenizer", "unk_token": EOS,
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    stm = {"bos_token": tok(BOS), "eos_token": tok(EOS), "pad_token": EOS, "unk_token": tok(EOS)}
    with open(os.path.join(folder, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(stm, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def build(folder, model_max_length):
    import dataset as D
    corpus = D.caption_corpus()
    vocab, merges = train_bpe(corpus)
    write_tokenizer(folder, vocab, merges, model_max_length)
    tok = CLIPTokenizer(folder)
    # every caption word must be one token; every caption must fit
    longest = 0
    for c in corpus[:-1]:
        for w in basic_tokenize(c):
            for piece in clip_split(w):
                assert len(tok.bpe("".join(BYTE_ENC[b] for b in piece.encode()))) == 1, piece
        longest = max(longest, len(tok.encode(c)) + 2)
    assert longest <= model_max_length, longest
    return tok, len(vocab), len(merges), longest


if __name__ == "__main__":
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    tok, nv, nm, longest = build(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)
    print("vocab", nv, "merges", nm, "longest caption (with bos/eos)", longest)
    print(tok("a small red circle at the top left"))
