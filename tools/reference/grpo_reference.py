#!/usr/bin/env python3
"""Reference GRPO loss and gradient, written from the formulas (not from UPM's
code), for tests/train/grpo_loss_test.cpp.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/grpo_reference.py
Writes tests/data/train/grpo_golden.json.
"""
import json
import os

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)

B, T, G = 6, 7, 3
rewards = torch.tensor([1.0, 0.0, 0.5, 0.2, 0.2, 0.2])  # second group: zero std
new_lp = (torch.randn(B, T) * 0.3 - 1.5).requires_grad_(True)
old_lp = new_lp.detach() + torch.randn(B, T) * 0.2  # ratios spread across the clip bounds
ref_lp = new_lp.detach() + torch.randn(B, T) * 0.1
lengths = [7, 5, 3, 6, 2, 4]
mask = torch.zeros(B, T)
for b, n in enumerate(lengths):
    mask[b, :n] = 1.0


def advantages(r, group, scale):
    g = r.view(-1, group)
    centred = g - g.mean(dim=1, keepdim=True)
    if scale:
        centred = centred / (g.std(dim=1, keepdim=True) + 1e-4)  # unbiased std
    return centred.reshape(-1)


def loss_fn(adv, beta, clip_low, clip_high, aggregation):
    ratio = torch.exp(new_lp - old_lp)
    a = adv.unsqueeze(1)
    per_token = -torch.minimum(ratio * a, torch.clamp(ratio, 1 - clip_low, 1 + clip_high) * a)
    d = ref_lp - new_lp
    per_token = per_token + beta * (torch.exp(d) - d - 1)
    if aggregation == "token":
        return (per_token * mask).sum() / mask.sum()
    return ((per_token * mask).sum(1) / mask.sum(1)).mean()


cases = []
for scale in (True, False):
    for beta in (0.0, 0.04):
        for aggregation in ("token", "sequence"):
            adv = advantages(rewards, G, scale)
            if new_lp.grad is not None:
                new_lp.grad = None
            loss = loss_fn(adv, beta, 0.2, 0.28, aggregation)
            loss.backward()
            cases.append({
                "scale_by_std": scale, "kl_beta": beta, "aggregation": aggregation,
                "clip_low": 0.2, "clip_high": 0.28,
                "advantages": adv.tolist(), "loss": loss.item(),
                "grad": new_lp.grad.tolist(),
            })

out = {
    "group_size": G, "rewards": rewards.tolist(), "new_logprobs": new_lp.detach().tolist(),
    "old_logprobs": old_lp.tolist(), "ref_logprobs": ref_lp.tolist(), "mask": mask.tolist(),
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "train", "grpo_golden.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
