#!/usr/bin/env python3
"""Reference InfoNCE with the Q-Anchor margin mask, written from the formula
(not from UPM's code), for tests/train/embed_info_nce_test.cpp.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/info_nce_reference.py
Writes tests/data/train/embed_info_nce_golden.json.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(4321)
torch.set_default_dtype(torch.float64)

B, D = 6, 5
anchors = torch.randn(B, D)
positives = anchors + 0.6 * torch.randn(B, D)  # each positive resembles its anchor
# Row 0's negative 3 and row 4's negative 1 are near-duplicates of the anchor:
# they score far above the positives, so the margin mask must drop them.
positives[3] = anchors[0] + 0.01 * torch.randn(D)
positives[1] = anchors[4] + 0.01 * torch.randn(D)


def info_nce(a, p, temperature, margin, normalize):
    if normalize:
        a = F.normalize(a, dim=1)
        p = F.normalize(p, dim=1)
    sim = a @ p.t()
    losses = []
    masked = 0
    for i in range(a.shape[0]):
        terms = []
        for j in range(a.shape[0]):
            if j != i and margin >= 0 and sim[i, j].item() > sim[i, i].item() + margin:
                masked += 1
                continue
            terms.append(sim[i, j] / temperature)
        losses.append(torch.logsumexp(torch.stack(terms), 0) - sim[i, i] / temperature)
    return torch.stack(losses).mean(), masked


cases = []
for temperature, margin, normalize in [(0.07, 0.1, True), (0.07, -1.0, True), (0.5, 0.3, False)]:
    a = anchors.clone().requires_grad_(True)
    p = positives.clone().requires_grad_(True)
    loss, masked = info_nce(a, p, temperature, margin, normalize)
    loss.backward()
    cases.append({
        "temperature": temperature, "margin": margin, "normalize": normalize,
        "loss": loss.item(), "masked": masked,
        "grad_anchors": a.grad.reshape(-1).tolist(), "grad_positives": p.grad.reshape(-1).tolist(),
    })

out = {"B": B, "D": D, "anchors": anchors.reshape(-1).tolist(), "positives": positives.reshape(-1).tolist(),
       "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "train", "embed_info_nce_golden.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), [(c["loss"], c["masked"]) for c in cases])
