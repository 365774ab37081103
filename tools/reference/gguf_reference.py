"""The `gguf` package (llama.cpp's gguf-py) as the reference for UPM's GGUF reader.

Writes under tests/data/model/gguf/:

  quant_types.gguf              a tiny GGUF (gguf.GGUFWriter) with one tensor per
                                ggml type UPM dequantizes, and metadata of every
                                value type (scalars, strings, arrays, a nested array)
  quant_types.expected.safetensors
                                gguf.quants.dequantize of each tensor (fp32, the
                                PyTorch shape: GGUF dims reversed)
  quant_types.metadata.json     the metadata as gguf.GGUFReader reads it back

F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 tensors are made by
gguf.quants.quantize from seeded normal values. gguf-py cannot quantize the
K-quants (Q4_K, Q5_K, Q6_K: dequantize only) and the bundled SmolLM2 file has
none (Q4_1, Q8_0, F32), so their blocks are seeded random bytes with the fp16
super-block scales set to finite values of a weight's size: every bit of the
packed quants and 6-bit scales is exercised, and dequantize defines the
expected values.

It also writes tiny llama, qwen2 (q/k/v biases) and qwen3 (q/k norms, tied
embeddings) models as llama.cpp's convert_hf_to_gguf.py would (llama q/k rows
permuted, llama.cpp names and metadata keys, the byte-level
BPE vocabulary of tests/data/text/tiny_bpe with CONTROL and USER_DEFINED added
tokens, a ChatML template) with weights in F32, F16, BF16, Q8_0 and Q4_1,
and what transformers makes of it (from_pretrained(gguf_file=...)):

  tiny_<family>.gguf              the file
  tiny_<family>.expected.json     per HF tensor: shape, checksum of the float32
                                  bits (sum of u32[i] * (2i + 1) mod 2^64), first values;
                                  token ids of a few texts (and of one text by the
                                  source tokenizer.json, see below); last-position logits
                                  (top 16 and log-sum-exp) of a few prompts

Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/gguf_reference.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model", "gguf")

QUANTIZED = [T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANTS = [T.Q4_K, T.Q5_K, T.Q6_K]
# Byte offsets of the fp16 scales inside one K-quant block (d, and dmin where present).
K_SCALE_OFFSETS = {T.Q4_K: (0, 2), T.Q5_K: (0, 2), T.Q6_K: (208,)}


def f16_values(rng):
    """Normal values plus the fp16 corner cases: subnormals, signed zeros, the largest finite values."""
    values = rng.normal(0, 1, size=(4, 64)).astype(np.float32)
    specials = [0.0, -0.0, 6e-8, -6e-8, 3.0e-5, 6.1e-5, 65504.0, -65504.0, 1e-4, 0.5, -2.0, 1024.0]
    values[0, : len(specials)] = specials
    return values


def k_quant_blocks(rng, qtype, rows, blocks_per_row):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows, blocks_per_row, type_size), dtype=np.uint8)
    for offset in K_SCALE_OFFSETS[qtype]:
        scales = rng.uniform(-0.02, 0.02, size=(rows, blocks_per_row)).astype(np.float16)
        raw[..., offset:offset + 2] = scales.view(np.uint8).reshape(rows, blocks_per_row, 2)
    return raw.reshape(rows, blocks_per_row * type_size), (rows, blocks_per_row * block_size)


def add_metadata(writer):
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4000000000)
    writer.add_int32("test.int32", -2000000000)
    writer.add_uint64("test.uint64", 18000000000000000000)
    writer.add_int64("test.int64", -9000000000000000000)
    writer.add_float32("test.float32", 0.1)
    writer.add_float64("test.float64", 0.1)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo, 世界\n")
    writer.add_array("test.int_array", [1, -2, 3])
    writer.add_array("test.string_array", ["a", "", "ÿ"])
    writer.add_array("test.float_array", [0.5, -1.25])
    writer.add_array("test.nested_array", [[1, 2], [3]])


def metadata_json(reader):
    """Every test key as GGUFReader reads it: {"type", "element_type", "value"}. GGUFReader
    flattens a nested array ([[1, 2], [3]] reads as [1, 2, 3]); the test compares it flattened."""
    out = {}
    for key, field in reader.fields.items():
        if not key.startswith("test."):
            continue
        kind = field.types[0]
        value = field.contents()
        out[key] = {"type": kind.name, "element_type": field.types[1].name if len(field.types) > 1 else None,
                    "value": value}
    return out


TINY = dict(vocab_size=865, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=256)
TIED = {"llama": False, "qwen2": False, "qwen3": True}
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
TINY_TEXTS = ["Hello world", "café and <|im_start|>user<|im_end|>", " 12345 tabs\tand\nnewlines  ",
              "Ünïcödé 🙂 it's, we'll"]


def checksum(array):
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).reshape(-1).astype(np.uint64)
    weights = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(bits * weights, dtype=np.uint64))


def llama_cpp_permute(weights, heads):
    """convert_hf_to_gguf.py LlamaModel.permute: HF's rotate-half rows -> ggml's interleaved pairs."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(
        weights.shape)


def tiny_vocabulary():
    """tokens, token types and merges as llama.cpp's converter stores tests/data/text/tiny_bpe."""
    with open(os.path.join(ROOT, "tests", "data", "text", "tiny_bpe", "tokenizer.json")) as f:
        spec = json.load(f)
    tokens = [None] * TINY["vocab_size"]
    types = [1] * TINY["vocab_size"]  # NORMAL
    for token, index in spec["model"]["vocab"].items():
        tokens[index] = token
    for added in spec["added_tokens"]:
        tokens[added["id"]] = added["content"]
        types[added["id"]] = 3 if added["special"] else 4  # CONTROL, USER_DEFINED
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    return tokens, types, merges


def shape_of(family):
    """TINY, but qwen3 with head_dim 128 (Qwen3's, and the only one transformers' GGUF loader
    reads: it ignores qwen3.attention.key_length) != hidden/heads, and one layer to stay small."""
    if family != "qwen3":
        return dict(TINY)
    return dict(TINY, head_dim=128, num_hidden_layers=1)


def build_tiny(family):
    """A seeded transformers model of `family`, weights drawn wider than its init so that a
    forgotten norm weight, bias or permutation shows in the logits."""
    import torch
    from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config,
                              Qwen3ForCausalLM)
    classes = {"llama": (LlamaForCausalLM, LlamaConfig), "qwen2": (Qwen2ForCausalLM, Qwen2Config),
               "qwen3": (Qwen3ForCausalLM, Qwen3Config)}
    model_class, config_class = classes[family]
    torch.manual_seed(27)
    config = config_class(**shape_of(family), tie_word_embeddings=TIED[family], hidden_act="silu")
    model = model_class(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(1 + 0.1 * torch.randn_like(param) if "norm" in name else 0.15 * torch.randn_like(param))
    return {k: v.numpy() for k, v in model.state_dict().items()}


def write_tiny(family):
    """tiny_<family>.gguf as llama.cpp's converter writes it, and transformers' reading of it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    state = build_tiny(family)
    shape = shape_of(family)
    name = f"tiny_{family}.gguf"
    path = os.path.join(OUT, name)
    writer = GGUFWriter(path, arch=family)
    writer.add_name(f"tiny {family}")
    writer.add_context_length(shape["max_position_embeddings"])
    writer.add_embedding_length(shape["hidden_size"])
    writer.add_block_count(shape["num_hidden_layers"])
    writer.add_feed_forward_length(shape["intermediate_size"])
    head_dim = shape.get("head_dim", shape["hidden_size"] // shape["num_attention_heads"])
    writer.add_rope_dimension_count(head_dim)
    if family == "qwen3":
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_head_count(shape["num_attention_heads"])
    writer.add_head_count_kv(shape["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(shape["rms_norm_eps"])
    writer.add_rope_freq_base(shape["rope_theta"])
    writer.add_vocab_size(shape["vocab_size"])
    tokens, types, merges = tiny_vocabulary()
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(856)
    writer.add_eos_token_id(859)
    writer.add_pad_token_id(864)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    heads, kv_heads = shape["num_attention_heads"], shape["num_key_value_heads"]
    layer_types = {"attn_q": T.F16, "attn_k": T.BF16, "attn_v": T.Q8_0, "attn_output": T.Q4_1,
                   "ffn_gate": T.F16, "ffn_up": T.Q8_0, "ffn_down": T.F32}

    def add(tensor_name, values, qtype):
        values = np.ascontiguousarray(values, dtype=np.float32)
        data = values if qtype == T.F32 else quantize(values, qtype)
        writer.add_tensor(tensor_name, data, raw_dtype=qtype)

    add("token_embd.weight", state["model.embed_tokens.weight"], T.F16 if family == "llama" else T.Q8_0)
    if not TIED[family]:
        add("output.weight", state["lm_head.weight"], T.Q8_0)
    add("output_norm.weight", state["model.norm.weight"], T.F32)
    hf_names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                "ffn_down": "mlp.down_proj"}
    for layer in range(shape["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        add(f"blk.{layer}.attn_norm.weight", state[p + "input_layernorm.weight"], T.F32)
        add(f"blk.{layer}.ffn_norm.weight", state[p + "post_attention_layernorm.weight"], T.F32)
        if family == "qwen3":
            add(f"blk.{layer}.attn_q_norm.weight", state[p + "self_attn.q_norm.weight"], T.F32)
            add(f"blk.{layer}.attn_k_norm.weight", state[p + "self_attn.k_norm.weight"], T.F32)
        for gguf_name, hf in hf_names.items():
            values = state[p + hf + ".weight"]
            # Only llama files are permuted (llama.cpp runs qwen with NeoX-style rotary).
            if family == "llama" and gguf_name == "attn_q":
                values = llama_cpp_permute(values, heads)
            elif family == "llama" and gguf_name == "attn_k":
                values = llama_cpp_permute(values, kv_heads)
            add(f"blk.{layer}.{gguf_name}.weight", values, layer_types[gguf_name])
            if family == "qwen2" and gguf_name in ("attn_q", "attn_k", "attn_v"):
                add(f"blk.{layer}.{gguf_name}.bias", state[p + hf + ".bias"], T.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    reference = AutoModelForCausalLM.from_pretrained(OUT, gguf_file=name, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(OUT, gguf_file=name)
    expected = {"tensors": {}, "tokens": [], "logits": []}
    for key, value in reference.state_dict().items():
        if key == "lm_head.weight" and TIED[family]:
            continue
        expected["tensors"][key] = {"shape": list(value.shape), "checksum": str(checksum(value.numpy())),
                                    "first": [float(x) for x in value.reshape(-1)[:8]]}
    for text in TINY_TEXTS:
        expected["tokens"].append({"text": text, "ids": tokenizer(text)["input_ids"]})
    # A USER_DEFINED token spelled outside the byte alphabet ("hello world"): transformers' GGUF
    # loader leaves it out of its added tokens (it looks it up respelled), llama.cpp and the
    # tokenizer the file came from match it whole; the latter gives these ids.
    from tokenizers import Tokenizer
    source = Tokenizer.from_file(os.path.join(ROOT, "tests", "data", "text", "tiny_bpe", "tokenizer.json"))
    text = "say hello world twice: hello world"
    expected["source_tokens"] = [{"text": text, "ids": source.encode(text, add_special_tokens=False).ids}]
    with torch.no_grad():
        for text in TINY_TEXTS[:2]:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            logits = reference(ids).logits[0, -1]
            top = torch.topk(logits, 16)
            expected["logits"].append({"ids": ids[0].tolist(), "top_ids": top.indices.tolist(),
                                       "top_logits": [float(x) for x in top.values],
                                       "logsumexp": float(torch.logsumexp(logits, 0))})
    with open(os.path.join(OUT, f"tiny_{family}.expected.json"), "w") as f:
        json.dump(expected, f, indent=0, ensure_ascii=False)
        f.write("\n")
    print(f"{name}: {os.path.getsize(path)} bytes, {len(expected['tensors'])} tensors")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(27)
    path = os.path.join(OUT, "quant_types.gguf")
    writer = GGUFWriter(path, arch="llama")
    add_metadata(writer)
    expected = {}

    def add(name, raw, qtype, shape):
        writer.add_tensor(name, raw, raw_dtype=qtype)  # raw.shape: bytes per row for quantized types
        expected[name] = dequantize(raw, qtype).reshape(shape).astype(np.float32)

    values = rng.normal(0, 1, size=(2, 3, 32)).astype(np.float32)
    add("f32_3d", values, T.F32, values.shape)
    values = f16_values(rng)
    add("f16", values.astype(np.float16), T.F16, values.shape)
    for qtype in QUANTIZED:
        values = rng.normal(0, 0.05, size=(4, 64)).astype(np.float32)
        values[1] = 0.0  # an all-zero row: zero scale, no division by it
        add(qtype.name.lower(), quantize(values, qtype), qtype, values.shape)
    for qtype in K_QUANTS:
        raw, shape = k_quant_blocks(rng, qtype, rows=2, blocks_per_row=2)
        add(qtype.name.lower(), raw, qtype, shape)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    save_file(expected, os.path.join(OUT, "quant_types.expected.safetensors"))
    reader = GGUFReader(path)
    for tensor in reader.tensors:  # the file reads back as written
        got = dequantize(tensor.data, tensor.tensor_type).reshape(expected[tensor.name].shape)
        assert np.array_equal(got.view(np.uint32), expected[tensor.name].view(np.uint32)), tensor.name
    with open(os.path.join(OUT, "quant_types.metadata.json"), "w") as f:
        json.dump(metadata_json(reader), f, indent=1, ensure_ascii=False)
        f.write("\n")
    for name, value in expected.items():
        print(f"{name:8s} {str(value.shape):14s} first {value.reshape(-1)[:3]}")
    for family in ("llama", "qwen2", "qwen3"):
        write_tiny(family)


if __name__ == "__main__":
    main()
