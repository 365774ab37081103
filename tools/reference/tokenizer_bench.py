#!/usr/bin/env python3
"""The Hugging Face side of bench/tokenizer_bench.cpp: encodes the same
documents with the PyPI `tokenizers` package (Rust core), one call per
document, and prints {"mb_per_s", "mb_per_cpu_s", "tokens", "seconds"} as JSON.

    RAYON_NUM_THREADS=1 .venv/bin/python tools/reference/tokenizer_bench.py TOKENIZER_JSON DOCS_JSONL

Tokenizer.encode on one string runs on the calling thread; RAYON_NUM_THREADS=1
keeps any batch path of the library to one thread as well, so the comparison
with the single-threaded C++ side is like for like.
"""
import json
import sys
import time

from tokenizers import Tokenizer


def main():
    if len(sys.argv) != 3:
        print("usage: tokenizer_bench.py TOKENIZER_JSON DOCS_JSONL", file=sys.stderr)
        sys.exit(2)
    tokenizer = Tokenizer.from_file(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f if line.strip()]
    size = sum(len(doc.encode("utf-8")) for doc in docs)
    for doc in docs[:8]:  # warm-up, as on the C++ side
        tokenizer.encode(doc, add_special_tokens=False)
    tokens = 0
    cpu_start = time.process_time()  # the whole process, every thread
    start = time.perf_counter()
    for doc in docs:
        tokens += len(tokenizer.encode(doc, add_special_tokens=False))
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    print(json.dumps({"mb_per_s": size / 1e6 / seconds, "mb_per_cpu_s": size / 1e6 / cpu_seconds,
                      "tokens": tokens, "seconds": seconds}))


if __name__ == "__main__":
    main()
