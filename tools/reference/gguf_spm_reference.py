"""transformers' GGUF loader as the reference for the SentencePiece ("llama")
vocabulary of `upm-model import-gguf` (Llama 1/2, Mistral, TinyLlama files).

The vocabulary is tests/data/text/tiny_spm/tokenizer.model (a SentencePiece
BPE model of 800 pieces with byte fallback, <unk>/<s>/</s>/<pad> and four
user-defined symbols), stored as llama.cpp's convert_hf_to_gguf.py stores a
SentencePiece vocabulary: tokenizer.ggml.model "llama", the pieces, their
scores and types (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte),
no merges, bos 1, eos 2, unk 0, pad 3, add_bos_token true. The weights are a
tiny random llama (F16) so that the file is a model both loaders accept.

Writes under tests/data/model/gguf/:

  tiny_spm_llama.gguf            the file
  tiny_spm_llama.expected.json   what AutoTokenizer.from_pretrained(dir, gguf_file=...)
                                 makes of it: "merges", the merges it recovers from
                                 the scores (transformers' generate_merges), and
                                 "tokens": [{"text", "ids", "decoded"}] for a mixed
                                 corpus (ids with the BOS it adds, decode of those
                                 ids with special tokens kept)

Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/gguf_spm_reference.py
"""
import json
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model", "gguf")
NAME = "tiny_spm_llama.gguf"
SHAPE = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
             num_key_value_heads=1, context_length=128)
TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    " leading space",
    "   three leading spaces and  two inside",
    "line one\nline two\n\nend\n",
    "tabs\tand\r\nCRLF",
    "Café, naïve, résumé, Ünïcödé",
    "日本語のテキスト and 中文",
    "emoji 🙂👍🏽 and ✨ sparkles",
    "Ωmega ☃ ∑ ≠ ∞",
    "<s>already a bos and </s> an eos",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<think>reasoning</think>answer",
    "numbers 1234567 and 3.14159",
    "",
    " ",
    "\n",
]


def varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def proto_fields(data):
    """(field number, wire type, value) of one protobuf message, values raw."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def sentencepiece_vocabulary(path):
    """tokens, scores, llama.cpp token types of a tokenizer.model (ModelProto.pieces = field 1)."""
    with open(path, "rb") as f:
        model = f.read()
    tokens, scores, types = [], [], []
    for number, _, value in proto_fields(model):
        if number != 1:
            continue
        piece = {1: b"", 2: struct.pack("<f", 0.0), 3: 1}  # type NORMAL by default
        for field, _, content in proto_fields(value):
            piece[field] = content
        tokens.append(piece[1].decode("utf-8"))
        scores.append(struct.unpack("<f", piece[2])[0])
        types.append(piece[3])  # SentencePiece numbers its types as llama.cpp does
    return tokens, scores, types


def write_gguf(path, tokens, scores, types):
    rng = np.random.default_rng(27)
    vocab, hidden = len(tokens), SHAPE["hidden_size"]
    heads, kv_heads = SHAPE["num_attention_heads"], SHAPE["num_key_value_heads"]
    head_dim = hidden // heads
    writer = GGUFWriter(path, arch="llama")
    writer.add_name("tiny spm llama")
    writer.add_context_length(SHAPE["context_length"])
    writer.add_embedding_length(hidden)
    writer.add_block_count(SHAPE["num_hidden_layers"])
    writer.add_feed_forward_length(SHAPE["intermediate_size"])
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_pad_token_id(3)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    def add(name, *shape):
        values = rng.normal(0, 0.2, size=shape).astype(np.float32)
        writer.add_tensor(name, values if len(shape) == 1 else values.astype(np.float16),
                          raw_dtype=T.F32 if len(shape) == 1 else T.F16)

    add("token_embd.weight", vocab, hidden)
    add("output.weight", vocab, hidden)
    add("output_norm.weight", hidden)
    ffn = SHAPE["intermediate_size"]
    for layer in range(SHAPE["num_hidden_layers"]):
        add(f"blk.{layer}.attn_norm.weight", hidden)
        add(f"blk.{layer}.ffn_norm.weight", hidden)
        add(f"blk.{layer}.attn_q.weight", heads * head_dim, hidden)
        add(f"blk.{layer}.attn_k.weight", kv_heads * head_dim, hidden)
        add(f"blk.{layer}.attn_v.weight", kv_heads * head_dim, hidden)
        add(f"blk.{layer}.attn_output.weight", hidden, heads * head_dim)
        add(f"blk.{layer}.ffn_gate.weight", ffn, hidden)
        add(f"blk.{layer}.ffn_up.weight", ffn, hidden)
        add(f"blk.{layer}.ffn_down.weight", hidden, ffn)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    from transformers import AutoTokenizer

    tokens, scores, types = sentencepiece_vocabulary(os.path.join(ROOT, "tests", "data", "text", "tiny_spm",
                                                                  "tokenizer.model"))
    assert all(f"<0x{b:02X}>" in tokens for b in range(256)), "the vocabulary needs every byte fallback token"
    path = os.path.join(OUT, NAME)
    write_gguf(path, tokens, scores, types)
    tokenizer = AutoTokenizer.from_pretrained(OUT, gguf_file=NAME)
    rows = []
    fallback = {tokens.index(f"<0x{b:02X}>") for b in range(256)}
    for text in TEXTS:
        ids = tokenizer(text)["input_ids"]
        rows.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids)})
    used = sum(1 for row in rows for i in row["ids"] if i in fallback)
    with open(os.path.join(OUT, "tiny_spm_llama.expected.json"), "w") as f:
        merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["merges"]
        json.dump({"merges": merges, "tokens": rows}, f, indent=0, ensure_ascii=False)
        f.write("\n")
    if os.environ.get("DUMP_TOKENIZER_JSON"):  # what transformers built, to compare with the import's
        with open(os.environ["DUMP_TOKENIZER_JSON"], "w") as f:
            f.write(tokenizer.backend_tokenizer.to_str(pretty=True))
    print(f"{NAME}: {os.path.getsize(path)} bytes, {len(tokens)} tokens, {used} byte fallback ids in the goldens")


if __name__ == "__main__":
    main()
