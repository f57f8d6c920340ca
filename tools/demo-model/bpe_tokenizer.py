#!/usr/bin/env python3
"""GPT-2-style byte-level BPE: merge training, the standard encode algorithm, tokenizer.json I/O.

Encoding follows the GPT-2 reference exactly: split the text with the GPT-2 pre-tokenizer regex,
map each piece's UTF-8 bytes through bytes_to_unicode, then repeatedly merge the adjacent pair
with the lowest merge rank (all its occurrences, left to right) until no ranked pair remains.

Usage: bpe_tokenizer.py --train TRAIN.jsonl --out tokenizer.json [--merges N]
       bpe_tokenizer.py --tokenizer tokenizer.json --dump-ids A.jsonl [B.jsonl ...] --out ids.json
"""
import argparse
import collections
import json

import regex

GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}


def pre_tokenize(text):
    """[(piece, start_char, end_char)] from the GPT-2 regex."""
    return [(m.group(0), m.start(), m.end()) for m in GPT2_PATTERN.finditer(text)]


def to_symbols(piece):
    return "".join(BYTE_ENC[b] for b in piece.encode("utf-8"))


def train_merges(texts, max_merges):
    """Classic BPE training over pre-tokenized words (most frequent pair first, ties by symbol order)."""
    words = collections.Counter()
    for t in texts:
        for piece, _, _ in pre_tokenize(t):
            words[to_symbols(piece)] += 1
    seqs = {w: list(w) for w in words}
    merges = []
    while len(merges) < max_merges:
        pairs = collections.Counter()
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(ch) for ch in kv[0][0] + " " + kv[0][1]]))
        if best[1] < 2:
            break
        a, b = best[0]
        merges.append((a, b))
        for w, s in seqs.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


class Tokenizer:
    """Byte-level BPE with one special token, <|endoftext|>, matched verbatim before pre-tokenization."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.cache = {}

    @staticmethod
    def load(path):
        with open(path) as f:
            j = json.load(f)
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in j["model"]["merges"]]
        vocab = dict(j["model"]["vocab"])
        for t in j["added_tokens"]:
            vocab[t["content"]] = t["id"]
        return Tokenizer(vocab, merges)

    def bpe(self, symbols):
        if symbols in self.cache:
            return self.cache[symbols]
        word = list(symbols)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            a, b = best
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        self.cache[symbols] = word
        return word

    def encode_with_offsets(self, text):
        """[(id, start_char, end_char)]; offsets are exact for ASCII text (one byte per char)."""
        out = []
        pos = 0
        segments = text.split(EOT)
        for k, seg in enumerate(segments):
            for piece, s, _ in pre_tokenize(seg):
                c = s
                for tok in self.bpe(to_symbols(piece)):
                    n = len(bytes(BYTE_DEC[ch] for ch in tok).decode("utf-8", errors="replace"))
                    out.append((self.vocab[tok], pos + c, pos + c + n))
                    c += n
            pos += len(seg)
            if k + 1 < len(segments):
                out.append((self.vocab[EOT], pos, pos + len(EOT)))
                pos += len(EOT)
        return out

    def encode(self, text):
        return [i for i, _, _ in self.encode_with_offsets(text)]

    def decode(self, ids):
        parts = []
        for i in ids:
            t = self.inv[i]
            parts.append(t.encode("utf-8") if t == EOT else bytes(BYTE_DEC[ch] for ch in t))
        return b"".join(parts).decode("utf-8", errors="replace")


def tokenizer_json(merges):
    vocab = {EOT: 0}
    for b in range(256):
        vocab[BYTE_ENC[b]] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": 0, "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {"type": "ByteLevel", **byte_level},
        "decoder": {"type": "ByteLevel", **byte_level},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def strip_brackets(texts):
    return texts.replace("[ ", "").replace(" ]", "")


EXTRA_TEXTS = ["Hello, world! \u65e5\u672c\u8a9e \U0001F600 <|endoftext|>  x\n\n  y", "   leading spaces",
               "tabs\tand\r\nCRLF", "Mary's cat isn't here. They've 12345 apples"]


def dump_ids(tokenizer_path, jsonl_paths, out_path):
    """[{text, ids}] for check_tokenizer.mjs: every sample with and without brackets, plus odd strings."""
    tok = Tokenizer.load(tokenizer_path)
    texts = []
    for path in jsonl_paths:
        with open(path) as f:
            for line in f:
                t = json.loads(line)["texts"]
                texts += [t, strip_brackets(t)]
    texts += EXTRA_TEXTS
    with open(out_path, "w") as f:
        json.dump([{"text": t, "ids": tok.encode(t)} for t in texts], f)
    print(f"wrote ids of {len(texts)} texts to {out_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", help="training jsonl to learn merges from")
    ap.add_argument("--out", required=True, help="tokenizer.json to write (or, with --dump-ids, the ids file)")
    ap.add_argument("--dump-ids", nargs="+", metavar="JSONL",
                    help="instead of training: encode these jsonl files with --tokenizer for check_tokenizer.mjs")
    ap.add_argument("--tokenizer", help="tokenizer.json for --dump-ids")
    ap.add_argument("--merges", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=4000, help="training samples used to learn merges")
    args = ap.parse_args()
    if args.dump_ids:
        dump_ids(args.tokenizer, args.dump_ids, args.out)
        return
    texts = []
    with open(args.train) as f:
        for i, line in enumerate(f):
            if i >= args.samples:
                break
            t = json.loads(line)["texts"]
            texts.append(strip_brackets(t))
            texts.append(t)
    merges = train_merges(texts, args.merges)
    tj = tokenizer_json(merges)
    with open(args.out, "w") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    tok = Tokenizer.load(args.out)
    words = collections.Counter()
    for t in texts:
        for piece, _, _ in pre_tokenize(t):
            words[piece] += 1
    worst = max(len(tok.bpe(to_symbols(w))) for w in words)
    for t in texts[:50]:
        assert tok.decode(tok.encode(t)) == t, "round trip failed"
    print(f"{len(merges)} merges, vocab {len(tj['model']['vocab'])}, {len(words)} distinct pieces, "
          f"max tokens per piece {worst}")


if __name__ == "__main__":
    main()
