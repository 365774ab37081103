#!/usr/bin/env python3
"""Golden ids from Hugging Face's own tokenizers library (Rust core, the
PyPI `tokenizers` package) for every line of a corpus.

    .venv/bin/python tools/reference/tokenizer_goldens.py TOKENIZER_JSON CORPUS_JSONL OUTPUT_JSONL

A corpus line is {"text": ...} or {"hex": ...}; hex bytes are decoded the way
a Python caller would (bytes.decode("utf-8", "replace"): each maximal invalid
subpart becomes U+FFFD) before HF sees them. Each output line repeats the
input field and adds: ids (no special tokens added), ids_special (the
post-processor's specials added), decoded and decoded_skip (decode with
skip_special_tokens false / true). Fields equal to what they default to are
left out (smaller goldens): ids_special defaults to ids, decoded to the text,
decoded_skip to decoded.
"""
import json
import sys

from tokenizers import Tokenizer


def corpus_text(entry):
    if "hex" in entry:
        return bytes.fromhex(entry["hex"]).decode("utf-8", "replace")
    return entry["text"]


def golden(tokenizer, entry):
    text = corpus_text(entry)
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    line = {"hex": entry["hex"]} if "hex" in entry else {"text": entry["text"]}
    line["ids"] = ids
    ids_special = tokenizer.encode(text, add_special_tokens=True).ids
    if ids_special != ids:
        line["ids_special"] = ids_special
    decoded = tokenizer.decode(ids, skip_special_tokens=False)
    if decoded != text:
        line["decoded"] = decoded
    decoded_skip = tokenizer.decode(ids, skip_special_tokens=True)
    if decoded_skip != decoded:
        line["decoded_skip"] = decoded_skip
    return line


def main():
    if len(sys.argv) != 4:
        print("usage: tokenizer_goldens.py TOKENIZER_JSON CORPUS_JSONL OUTPUT_JSONL", file=sys.stderr)
        sys.exit(2)
    tokenizer_path, corpus_path, output_path = sys.argv[1:]
    tokenizer = Tokenizer.from_file(tokenizer_path)
    lines = []
    with open(corpus_path, encoding="utf-8") as corpus:
        for number, raw in enumerate(corpus, 1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError as error:
                print(f"{corpus_path}:{number}: not JSON: {error}", file=sys.stderr)
                sys.exit(2)
            if "text" not in entry and "hex" not in entry:
                print(f"{corpus_path}:{number}: text: missing (or hex)", file=sys.stderr)
                sys.exit(2)
            # Compact separators and raw UTF-8, as JSON.stringify writes them.
            lines.append(json.dumps(golden(tokenizer, entry), ensure_ascii=False, separators=(",", ":")))
    with open(output_path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} lines to {output_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
