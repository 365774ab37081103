"""Hugging Face transformers as the reference for UPM's model layer.

Builds tiny random models with transformers (LlamaForCausalLM with GQA and
llama3 rope scaling, Qwen2ForCausalLM with q/k/v biases, Qwen3ForCausalLM
with q/k RMSNorm, a head_dim that is not hidden/heads and tied embeddings),
saves each with save_pretrained (safetensors) under tests/data/model/<family>,
and writes beside it the goldens the C++ parity tests compare with, computed
by the transformers model in fp32 with eager attention:

  golden.safetensors   input_ids [2, 12] int64, logits [2, 12, V] fp32,
                       greedy_prompt [P] int64, greedy_ids [32] int64
                       (model.generate, do_sample=False, no EOS stop)
  score_input.jsonl    {"ids": [...]} lines of different lengths
  score_expected.jsonl {"ids": [...], "logprobs": [...]}: log p(ids[i+1] | ids[..i])

Weights are drawn wider than transformers' init (std 0.15, norm weights
1 + N(0, 0.1)) so that logits are far from zero and a forgotten norm weight
or bias shows up; they are rounded through the dtype each folder stores
(bf16, fp16, fp32) before the goldens are computed.

Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/model_reference.py
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config,
                          Qwen3ForCausalLM)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model")

BASE = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            rms_norm_eps=1e-6, max_position_embeddings=256, hidden_act="silu", bos_token_id=1, eos_token_id=2,
            attention_dropout=0.0, use_cache=True)
MODELS = {
    "llama": (LlamaForCausalLM, LlamaConfig, torch.bfloat16, dict(
        num_key_value_heads=2, attention_bias=False, tie_word_embeddings=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64})),
    "qwen2": (Qwen2ForCausalLM, Qwen2Config, torch.float16, dict(
        num_key_value_heads=1, tie_word_embeddings=False, use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
    "qwen3": (Qwen3ForCausalLM, Qwen3Config, torch.float32, dict(
        num_key_value_heads=2, head_dim=16, attention_bias=False, tie_word_embeddings=True,
        use_sliding_window=False, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
}
GREEDY_TOKENS = 32


def build(name, seed):
    """A transformers model (fp32, eager attention) with seeded weights rounded through the stored dtype."""
    cls, config_cls, stored, extra = MODELS[name]
    config = config_cls(**BASE, **extra)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = cls(config).to(torch.float32).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters()):  # tied lm_head is listed once, as embed_tokens
            if pname.endswith("norm.weight"):
                value = 1.0 + torch.randn(p.shape, generator=gen) * 0.1
            elif pname.endswith(".bias"):
                value = torch.randn(p.shape, generator=gen) * 0.1
            elif pname == "model.embed_tokens.weight":
                value = torch.randn(p.shape, generator=gen) * 0.5
            else:
                value = torch.randn(p.shape, generator=gen) * 0.15
            p.copy_(value.to(stored).to(torch.float32))
    return model, stored, gen


def greedy(model, prompt):
    out = model.generate(prompt[None], do_sample=False, max_new_tokens=GREEDY_TOKENS, min_new_tokens=GREEDY_TOKENS,
                         eos_token_id=None, pad_token_id=0, return_dict_in_generate=True, output_logits=True)
    for step in out.logits:
        top2 = torch.topk(step[0].float(), 2).values
        # A near-tie could flip under another summation order: refuse it.
        if top2[0] - top2[1] <= 1e-3:
            return None
    return out.sequences[0, prompt.numel():]


def main():
    torch.set_num_threads(1)
    for index, name in enumerate(MODELS):
        # The first seed (1000 + index, then + 10 per try) whose greedy run has no near-tie.
        for seed in range(1000 + index, 1100, 10):
            model, stored, gen = build(name, seed)
            ids = torch.randint(0, model.config.vocab_size, (2, 12), generator=gen)
            prompt = torch.randint(0, model.config.vocab_size, (5,), generator=gen)
            with torch.no_grad():
                greedy_ids = greedy(model, prompt)
            if greedy_ids is not None:
                break
        else:
            raise SystemExit(f"{name}: every seed gives a near-tie greedy step")
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            os.remove(os.path.join(folder, old))

        with torch.no_grad():
            logits = model(ids).logits.float()
        save_file({"input_ids": ids, "logits": logits.contiguous(), "greedy_prompt": prompt,
                   "greedy_ids": greedy_ids.contiguous()}, os.path.join(folder, "golden.safetensors"))

        lines_in, lines_out = [], []
        for length in (9, 4, 13):
            seq = torch.randint(0, model.config.vocab_size, (length,), generator=gen)
            with torch.no_grad():
                lp = torch.log_softmax(model(seq[None]).logits[0].float(), dim=-1)
            logprobs = [float(lp[i, seq[i + 1]]) for i in range(length - 1)]
            lines_in.append(json.dumps({"ids": seq.tolist()}))
            lines_out.append(json.dumps({"ids": seq.tolist(), "logprobs": logprobs}))
        with open(os.path.join(folder, "score_input.jsonl"), "w") as f:
            f.write("\n".join(lines_in) + "\n")
        with open(os.path.join(folder, "score_expected.jsonl"), "w") as f:
            f.write("\n".join(lines_out) + "\n")

        model.to(stored).save_pretrained(folder, safe_serialization=True)
        count = sum(p.numel() for p in model.parameters())
        print(f"{name}: {folder} (seed {seed}, {count} parameters, stored as {stored})", file=sys.stderr)


if __name__ == "__main__":
    main()
