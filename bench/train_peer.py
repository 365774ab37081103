#!/usr/bin/env python3
"""The SFT step of bench/train_bench.cpp in PyTorch eager, as a speed peer.

Same model shape (Llama-style, tied embeddings, fp32), same batch, same step:
forward through transformers' LlamaForCausalLM (eager attention, as its
reference implementation), mean NLL over the target tokens, backward,
clip_grad_norm_, torch.optim.AdamW with weight decay on all but norms.
Prints one JSON object: {"step_s", "tokens_per_s"}.
Usage: train_peer.py '{"layers":12,"hidden":768,"intermediate":2048,"heads":12,"vocab":32000,"batch":4,"seq":128,"reps":3,"threads":2}'
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402


def main():
    s = json.loads(sys.argv[1])
    torch.set_num_threads(s["threads"])
    torch.manual_seed(1)
    h, i, v, L = s["hidden"], s["intermediate"], s["vocab"], s["layers"]
    config = LlamaConfig(hidden_size=h, intermediate_size=i, vocab_size=v, num_hidden_layers=L,
                         num_attention_heads=s["heads"], num_key_value_heads=s["heads"], rms_norm_eps=1e-6,
                         rope_theta=10000.0, tie_word_embeddings=True, max_position_embeddings=2048,
                         attn_implementation="eager")
    model = LlamaForCausalLM(config).float().train()
    named = list(model.named_parameters())
    decay = [t for k, t in named if not k.endswith("norm.weight")]
    keep = [t for k, t in named if k.endswith("norm.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": keep, "weight_decay": 0.0}], lr=1e-4)
    ids = torch.randint(3, v, (s["batch"], s["seq"]))

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(input_ids=ids).logits
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, v).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
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
