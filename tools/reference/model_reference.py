#!/usr/bin/python3
"""From-first-principles reference for UPM's model layer (issue 3).

Writes tiny random Hugging Face model folders (llama with GQA + llama3
rope_scaling, qwen2 with q/k/v biases, qwen3 with q/k RMSNorm, a head_dim that
is not hidden/heads and tied embeddings) under tests/data/model/, and beside
each the goldens the C++ parity tests compare with:

  golden.safetensors   input_ids [2, 12] int64, logits [2, 12, V] fp32,
                       greedy_prompt [P] int64, greedy_ids [32] int64
  score_input.jsonl    {"ids": [...]} lines of different lengths
  score_expected.jsonl {"ids": [...], "logprobs": [...]}: log p(ids[i+1] | ids[..i])

The decoder is written here from the published architecture (transformers'
modeling_llama / modeling_qwen2 / modeling_qwen3 semantics: fp32 RMSNorm,
rotate-half RoPE, repeat_kv GQA, SwiGLU) with plain torch ops; it imports
nothing of UPM. Run with Debian's python: /usr/bin/python3 (torch 1.13).
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model")

BASE = {
    "vocab_size": 128, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "rms_norm_eps": 1e-6, "max_position_embeddings": 256,
    "hidden_act": "silu", "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 2,
    "attention_dropout": 0.0, "use_cache": True,
}
MODELS = {
    "llama": dict(BASE, architectures=["LlamaForCausalLM"], model_type="llama", num_key_value_heads=2,
                  rope_theta=10000.0, attention_bias=False, tie_word_embeddings=False, torch_dtype="bfloat16",
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
    "qwen2": dict(BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", num_key_value_heads=1,
                  rope_theta=1000000.0, tie_word_embeddings=False, torch_dtype="float16",
                  use_sliding_window=False, sliding_window=None, rope_scaling=None),
    "qwen3": dict(BASE, architectures=["Qwen3ForCausalLM"], model_type="qwen3", num_key_value_heads=2,
                  head_dim=16, rope_theta=1000000.0, attention_bias=False, tie_word_embeddings=True,
                  torch_dtype="float32", use_sliding_window=False, sliding_window=None, rope_scaling=None),
}
STORE_DTYPE = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
ST_NAME = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def random_weights(cfg, gen):
    """HF tensor names -> fp32 tensors, rounded through the stored dtype."""
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d, nh, nkv = head_dim(cfg), cfg["num_attention_heads"], cfg["num_key_value_heads"]
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)

    def normal(*shape, std=0.15):
        return torch.randn(*shape, generator=gen) * std

    def norm(n):  # not all ones, so that a forgotten norm weight shows up
        return 1.0 + normal(n, std=0.1)

    w = {"model.embed_tokens.weight": normal(v, h, std=0.5)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "self_attn.q_proj.weight"] = normal(nh * d, h)
        w[p + "self_attn.k_proj.weight"] = normal(nkv * d, h)
        w[p + "self_attn.v_proj.weight"] = normal(nkv * d, h)
        if bias:
            w[p + "self_attn.q_proj.bias"] = normal(nh * d, std=0.1)
            w[p + "self_attn.k_proj.bias"] = normal(nkv * d, std=0.1)
            w[p + "self_attn.v_proj.bias"] = normal(nkv * d, std=0.1)
        w[p + "self_attn.o_proj.weight"] = normal(h, nh * d)
        if cfg["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm(d)
            w[p + "self_attn.k_norm.weight"] = norm(d)
        w[p + "mlp.gate_proj.weight"] = normal(i, h)
        w[p + "mlp.up_proj.weight"] = normal(i, h)
        w[p + "mlp.down_proj.weight"] = normal(h, i)
        w[p + "input_layernorm.weight"] = norm(h)
        w[p + "post_attention_layernorm.weight"] = norm(h)
    w["model.norm.weight"] = norm(h)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = normal(v, h)
    stored = STORE_DTYPE[cfg["torch_dtype"]]
    return {k: t.to(stored).to(torch.float32) for k, t in w.items()}


def write_safetensors(path, tensors):
    """The safetensors layout, by hand: u64 header length, JSON header, data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": ST_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------- the decoder

def rms_norm(x, weight, eps):
    xf = x.to(torch.float32)
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def inverse_frequencies(cfg):
    d = head_dim(cfg)
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        out = []
        for f in inv.tolist():  # per frequency, as in the Llama 3.1 release code
            wavelen = 2 * math.pi / f
            if wavelen < old / high:
                out.append(f)
            elif wavelen > old / low:
                out.append(f / factor)
            else:
                smooth = (old / wavelen - low) / (high - low)
                out.append((1 - smooth) * f / factor + smooth * f)
        inv = torch.tensor(out, dtype=torch.float32)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, cfg, ids):
    """ids [B, T] (no padding) -> logits [B, T, V] in fp32."""
    B, T = ids.shape
    d, nh, nkv = head_dim(cfg), cfg["num_attention_heads"], cfg["num_key_value_heads"]
    eps = cfg["rms_norm_eps"]
    pos = torch.arange(T, dtype=torch.float32)
    freqs = pos[:, None] * inverse_frequencies(cfg)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    causal = torch.full((T, T), float("-inf")).triu(1)

    def linear(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        hs = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(hs, p + "self_attn.q_proj").view(B, T, nh, d)
        k = linear(hs, p + "self_attn.k_proj").view(B, T, nkv, d)
        v = linear(hs, p + "self_attn.v_proj").view(B, T, nkv, d).transpose(1, 2)
        if cfg["model_type"] == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)  # repeat_kv
        v = v.repeat_interleave(nh // nkv, dim=1)
        att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d) + causal, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, nh * d)
        x = x + linear(o, p + "self_attn.o_proj")
        hs = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(hs, p + "mlp.gate_proj")
        x = x + linear(torch.nn.functional.silu(gate) * linear(hs, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def greedy(w, cfg, prompt, n):
    ids = list(prompt)
    for _ in range(n):
        logits = forward(w, cfg, torch.tensor([ids]))[0, -1]
        top2 = torch.topk(logits, 2).values
        # A near-tie could flip under a different summation order: refuse it.
        assert top2[0] - top2[1] > 1e-3, "greedy step too close to a tie; change the seed"
        ids.append(int(logits.argmax()))
    return ids[len(prompt):]


def main():
    torch.set_num_threads(1)
    for seed, (name, cfg) in enumerate(MODELS.items()):
        gen = torch.Generator().manual_seed(1000 + seed)
        w = random_weights(cfg, gen)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
        stored = STORE_DTYPE[cfg["torch_dtype"]]
        write_safetensors(os.path.join(folder, "model.safetensors"), {k: t.to(stored) for k, t in w.items()})

        ids = torch.randint(0, cfg["vocab_size"], (2, 12), generator=gen)
        with torch.no_grad():
            logits = forward(w, cfg, ids)
            prompt = torch.randint(0, cfg["vocab_size"], (5,), generator=gen)
            greedy_ids = greedy(w, cfg, prompt.tolist(), 32)
        write_safetensors(os.path.join(folder, "golden.safetensors"), {
            "input_ids": ids, "logits": logits.contiguous(), "greedy_prompt": prompt,
            "greedy_ids": torch.tensor(greedy_ids, dtype=torch.int64)})

        lines_in, lines_out = [], []
        for length in (9, 4, 13):
            seq = torch.randint(0, cfg["vocab_size"], (length,), generator=gen)
            with torch.no_grad():
                lp = torch.log_softmax(forward(w, cfg, seq[None])[0], dim=-1)
            logprobs = [float(lp[i, seq[i + 1]]) for i in range(length - 1)]
            lines_in.append(json.dumps({"ids": seq.tolist()}))
            lines_out.append(json.dumps({"ids": seq.tolist(), "logprobs": logprobs}))
        with open(os.path.join(folder, "score_input.jsonl"), "w") as f:
            f.write("\n".join(lines_in) + "\n")
        with open(os.path.join(folder, "score_expected.jsonl"), "w") as f:
            f.write("\n".join(lines_out) + "\n")
        print(f"{name}: {folder} ({sum(t.numel() for t in w.values())} parameters)", file=sys.stderr)


if __name__ == "__main__":
    main()
