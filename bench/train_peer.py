#!/usr/bin/env python3
"""The SFT step of bench/train_bench.cpp in PyTorch eager, as a speed peer.

Same model shape (Llama-style, tied embeddings, fp32), same batch, same step:
forward (tools/reference/model_reference.py's decoder), mean NLL over the
target tokens, backward, clip_grad_norm_, torch.optim.AdamW with weight decay
on all but norms. Prints one JSON object: {"step_s", "tokens_per_s"}.
Usage: train_peer.py '{"layers":12,"hidden":768,"intermediate":2048,"heads":12,"vocab":32000,"batch":4,"seq":128,"reps":3,"threads":2}'
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "reference"))
import model_reference as ref  # noqa: E402


def main():
    s = json.loads(sys.argv[1])
    torch.set_num_threads(s["threads"])
    h, i, v, L = s["hidden"], s["intermediate"], s["vocab"], s["layers"]
    cfg = {"hidden_size": h, "intermediate_size": i, "vocab_size": v, "num_hidden_layers": L,
           "num_attention_heads": s["heads"], "num_key_value_heads": s["heads"], "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "rope_scaling": None, "model_type": "llama", "tie_word_embeddings": True}
    g = torch.Generator().manual_seed(1)
    w = {"model.embed_tokens.weight": torch.randn(v, h, generator=g) * 0.02, "model.norm.weight": torch.ones(h)}
    d = h // s["heads"]
    for l in range(L):
        p = f"model.layers.{l}."
        for name, shape in [("self_attn.q_proj", (s["heads"] * d, h)), ("self_attn.k_proj", (s["heads"] * d, h)),
                            ("self_attn.v_proj", (s["heads"] * d, h)), ("self_attn.o_proj", (h, s["heads"] * d)),
                            ("mlp.gate_proj", (i, h)), ("mlp.up_proj", (i, h)), ("mlp.down_proj", (h, i))]:
            w[p + name + ".weight"] = torch.randn(*shape, generator=g) * 0.02
        w[p + "input_layernorm.weight"] = torch.ones(h)
        w[p + "post_attention_layernorm.weight"] = torch.ones(h)
    for t in w.values():
        t.requires_grad_(True)
    decay = [t for k, t in w.items() if not k.endswith("norm.weight")]
    keep = [t for k, t in w.items() if k.endswith("norm.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": keep, "weight_decay": 0.0}], lr=1e-4)
    ids = torch.randint(3, v, (s["batch"], s["seq"]), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = ref.forward(w, cfg, ids)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, v).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(s["reps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    step_s = times[len(times) // 2]
    print(json.dumps({"step_s": step_s, "tokens_per_s": s["batch"] * s["seq"] / step_s,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
