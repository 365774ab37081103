#!/usr/bin/env python3
"""Decode speed of transformers' generate() on the model upm-bench-model
times: the same Llama shape (its "model_config"), random weights, greedy,
exactly DECODE new tokens after a 32-token prompt, batch 1 and batch N, on
DEVICE in fp32 and bf16. Prints one JSON object.

usage: hf_generate.py BENCH_MODEL_JSON DEVICE DECODE BATCH [REPS]
The decode rate is rows x (DECODE - 1) over the time generate() takes beyond
a one-token generate (the prefill and the first token), medians of REPS.
"""
import json
import statistics
import sys
import time

import torch
import transformers


def timed(fn, device, reps=3):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    bench = json.load(open(sys.argv[1]))
    device, decode, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    if decode < 2:
        sys.exit("hf_generate.py: DECODE must be at least 2")
    c = bench["model_config"]
    config = transformers.LlamaConfig(
        vocab_size=c["vocab_size"], hidden_size=c["hidden_size"], intermediate_size=c["intermediate_size"],
        num_hidden_layers=c["num_hidden_layers"], num_attention_heads=c["num_attention_heads"],
        num_key_value_heads=c["num_key_value_heads"], head_dim=c["head_dim"], rope_theta=c["rope_theta"],
        rms_norm_eps=c["rms_norm_eps"], tie_word_embeddings=c["tie_word_embeddings"],
        max_position_embeddings=4096, attn_implementation="sdpa")
    torch.manual_seed(0)
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "device": device,
           "decode": decode, "batch": batch}
    if device.startswith("cuda"):
        out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = transformers.LlamaForCausalLM(config).to(device=device, dtype=dtype).eval()
        figures = {}
        for rows in (1, batch):
            ids = torch.randint(c["vocab_size"], (rows, 32), device=device)
            mask = torch.ones_like(ids)

            def generate(tokens):
                def run():
                    with torch.inference_mode():
                        model.generate(ids, attention_mask=mask, max_new_tokens=tokens, min_new_tokens=tokens,
                                       do_sample=False, pad_token_id=0, eos_token_id=None)
                return run

            seconds = max(1e-9, timed(generate(decode), device, reps) - timed(generate(1), device, reps))
            figures[f"decode_b{rows}_tokens_per_s"] = rows * (decode - 1) / seconds
        out[name] = figures
        del model
    print(json.dumps(out))


if __name__ == "__main__":
    main()
