#!/usr/bin/python3
"""From-first-principles reference for UPM's SFT step.

Three optimizer steps of supervised fine-tuning on the tiny Qwen2 model of
tests/data/model/qwen2 (it has q/k/v biases, so both AdamW parameter groups
are exercised), on one fixed batch, done with plain torch:

  loss  = mean over target tokens of -log p(ids[t] | ids[:t])  (prompt tokens masked)
  AdamW = torch.optim.AdamW with two groups: weight decay on every tensor but
          norms and biases; HF cosine schedule with warmup (as a multiplier);
          torch.nn.utils.clip_grad_norm_ over all parameters.

The forward is tools/reference/model_reference.py's decoder (it imports
nothing of UPM). Writes tests/data/train/sft_step_golden.safetensors:
  input_ids [2, 10] int64, targets [2, 10] int64 (1 = trained token),
  losses [3] f64, grad_norms [3] f64, lrs [3] f64, and "weight.NAME" for
  every parameter after the three steps (fp32).
Run with Debian's python: /usr/bin/python3 (torch 1.13).
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import model_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, "tests", "data", "model", "qwen2")
OUT = os.path.join(ROOT, "tests", "data", "train", "sft_step_golden.safetensors")

LR, BETAS, EPS, WEIGHT_DECAY, MAX_NORM = 1e-3, (0.9, 0.95), 1e-8, 0.1, 0.5
WARMUP, TOTAL, STEPS = 1, 10, 3
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "F64": torch.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = bytearray(data[8 + n + b: 8 + n + end])
        dtype = DTYPES[e["dtype"]]
        if dtype == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def lr_multiplier(step):
    """transformers.get_cosine_schedule_with_warmup."""
    if step < WARMUP:
        return step / max(1, WARMUP)
    progress = (step - WARMUP) / max(1, TOTAL - WARMUP)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def decays(name):
    return not (name.endswith("norm.weight") or name.endswith(".bias"))


def main():
    torch.set_num_threads(1)
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    w = {k: v.float().requires_grad_(True) for k, v in read_safetensors(os.path.join(MODEL, "model.safetensors")).items()}
    gen = torch.Generator().manual_seed(6)
    ids = torch.randint(3, cfg["vocab_size"], (2, 10), generator=gen)
    targets = torch.zeros(2, 10, dtype=torch.int64)
    targets[0, 4:] = 1  # prompt of 4 tokens
    targets[1, 6:] = 1  # prompt of 6 tokens

    groups = [{"params": [w[k] for k in sorted(w) if decays(k)], "weight_decay": WEIGHT_DECAY},
              {"params": [w[k] for k in sorted(w) if not decays(k)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    losses, norms, lrs = [], [], []
    for step in range(STEPS):
        lr = LR * lr_multiplier(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        logits = ref.forward(w, cfg, ids)  # [B, T, V]
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        nll = -logp.gather(-1, ids[:, 1:, None])[..., 0]
        mask = targets[:, 1:].bool()
        loss = nll[mask].mean()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(w.values()), MAX_NORM)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
        lrs.append(lr)
        print(f"step {step}: loss {loss.item():.6f} grad_norm {norm.item():.6f} lr {lr:.3e}")

    tensors = {"input_ids": ids, "targets": targets, "losses": torch.tensor(losses, dtype=torch.float64),
               "grad_norms": torch.tensor(norms, dtype=torch.float64), "lrs": torch.tensor(lrs, dtype=torch.float64)}
    for k, v in w.items():
        tensors["weight." + k] = v.detach().float()
    ref.ST_NAME[torch.float64] = "F64"
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    ref.write_safetensors(OUT, tensors)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
