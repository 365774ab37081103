#!/usr/bin/env python3
"""SentencePiece goldens from the reference CLI tools (Debian `sentencepiece`).

    python3 tools/reference/spm_goldens.py tests/data/text

Trains tests/data/text/tiny_spm/tokenizer.model with `spm_train`, using the
settings upm::train_sentencepiece uses (but vocabulary 800 and character
coverage 0.98, so that rare characters take the byte fallback), on the
lines of the parity corpus;
then writes tiny_spm_goldens.jsonl: {"text", "ids"} with the ids `spm_encode
--output_format=id` gives for every line (spm_encode reads one sentence
per line, so multi-line texts are split).
"""
import json
import os
import subprocess
import sys
import tempfile


def corpus_lines(corpus_path):
    lines = []
    for raw in open(corpus_path, encoding="utf-8"):
        entry = json.loads(raw)
        for line in entry.get("text", "").replace("\r", "").split("\n"):
            if line.strip() and "\0" not in line and line not in lines:
                lines.append(line)
    return lines


def main():
    data_dir = sys.argv[1]
    lines = corpus_lines(os.path.join(data_dir, "parity_corpus.jsonl"))
    model_dir = os.path.join(data_dir, "tiny_spm")
    os.makedirs(model_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        subprocess.run([
            "spm_train", f"--input={corpus}", f"--model_prefix={model_dir}/tokenizer", "--vocab_size=800",
            "--model_type=bpe", "--character_coverage=0.98", "--byte_fallback=true", "--num_threads=1",
            "--normalization_rule_name=identity", "--remove_extra_whitespaces=false", "--split_digits=true",
            "--allow_whitespace_only_pieces=true", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=3",
            "--user_defined_symbols=<|im_start|>,<|im_end|>,<think>,</think>"],
            check=True, stderr=subprocess.DEVNULL)
        os.remove(f"{model_dir}/tokenizer.vocab")
        ids = subprocess.run(["spm_encode", f"--model={model_dir}/tokenizer.model", "--output_format=id",
                              f"--input={corpus}"], check=True, capture_output=True, text=True).stdout
    id_lines = ids.rstrip("\n").split("\n")
    assert len(id_lines) == len(lines), (len(id_lines), len(lines))
    with open(os.path.join(data_dir, "tiny_spm_goldens.jsonl"), "w", encoding="utf-8") as out:
        for text, id_line in zip(lines, id_lines):
            out.write(json.dumps({"text": text, "ids": [int(t) for t in id_line.split()]}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
