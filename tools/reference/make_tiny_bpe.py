#!/usr/bin/env python3
"""Builds the small byte-level BPE tokenizer.json files the text tests use
without the real models' files: merges learnt greedily (most frequent pair first) from the
parity corpus, plus added tokens that exercise every flag HF has
(special, lstrip, rstrip, single_word, normalized).

    .venv/bin/python tools/reference/make_tiny_bpe.py tests/data/text

writes tiny_bpe/tokenizer.json (Qwen-style: NFC + Split regex + ByteLevel,
TemplateProcessing bos/eos) and tiny_gpt2/tokenizer.json (ByteLevel with
its own regex and add_prefix_space, no normalizer, no post-processor).
Goldens for both come from tools/reference/tokenizer_goldens.py.
"""
import collections
import json
import os
import re
import sys

QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
NUM_MERGES = 600


def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def learn_merges(texts):
    byte_char = bytes_to_unicode()
    words = collections.Counter()
    for text in texts:
        for word in re.findall(r" ?\w+| ?[^\w\s]+|\s+", text):
            words[tuple(byte_char[b] for b in word.encode("utf-8"))] += 1
    merges = []
    for _ in range(NUM_MERGES):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda item: (item[1], item[0]))[0]
        merges.append(best)
        merged = collections.Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    return [c for c in bytes_to_unicode().values()], merges


def added(token_id, content, special, lstrip=False, rstrip=False, normalized=False, single_word=False):
    return {"id": token_id, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": normalized, "special": special}


def build(alphabet, merges):
    vocab = {}
    for token in alphabet:
        vocab[token] = len(vocab)
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    n = len(vocab)
    added_tokens = [
        added(n, "<|bos|>", True), added(n + 1, "<|eos|>", True),
        added(n + 2, "<|im_start|>", True), added(n + 3, "<|im_end|>", True),
        added(n + 4, "[MASK]", True, lstrip=True, rstrip=True),
        added(n + 5, "<sw>", True, single_word=True),
        added(n + 6, "hello world", False, normalized=True),
        added(n + 7, "caf\u00e9", False, normalized=True),
        added(n + 8, "<|endoftext|>", True),
    ]
    return vocab, [f"{a} {b}" for a, b in merges], added_tokens


def tokenizer_json(vocab, merges, added_tokens, qwen_style):
    bos, eos = added_tokens[0], added_tokens[1]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    if qwen_style:
        normalizer = {"type": "NFC"}
        pre_tokenizer = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level]}
        post_processor = {"type": "TemplateProcessing",
                          "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}},
                                     {"Sequence": {"id": "A", "type_id": 0}},
                                     {"SpecialToken": {"id": "<|eos|>", "type_id": 0}}],
                          "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                          "special_tokens": {
                              "<|bos|>": {"id": "<|bos|>", "ids": [bos["id"]], "tokens": ["<|bos|>"]},
                              "<|eos|>": {"id": "<|eos|>", "ids": [eos["id"]], "tokens": ["<|eos|>"]}}}
    else:
        normalizer = None
        pre_tokenizer = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
        post_processor = None
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": vocab, "merges": merges}}


def main():
    out_dir = sys.argv[1]
    corpus = os.path.join(out_dir, "parity_corpus.jsonl")
    texts = [json.loads(line).get("text", "") for line in open(corpus, encoding="utf-8")]
    alphabet, merges = learn_merges(texts)
    vocab, merge_strings, added_tokens = build(alphabet, merges)
    for name, qwen_style in (("tiny_bpe", True), ("tiny_gpt2", False)):
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)
        with open(os.path.join(out_dir, name, "tokenizer.json"), "w", encoding="utf-8") as out:
            json.dump(tokenizer_json(vocab, merge_strings, added_tokens, qwen_style), out, ensure_ascii=False)


if __name__ == "__main__":
    main()
