#!/usr/bin/env python3
"""Reference InfoNCE with the Q-Anchor margin mask and GTE's negative kinds,
written from the formula (not from UPM's code), for
tests/train/embed_info_nce_test.cpp.

  Z_i = e^{s(q_i,d_i)/t} + sum over enabled kinds K and j != i of
        keep * e^{s_K(i,j)/t},  s_qd = s(q_i,d_j), s_qq = s(q_i,q_j),
        s_dq = s(d_i,q_j), s_dd = s(d_i,d_j);  keep = s_K(i,j) <= s(q_i,d_i) + margin
  loss = mean_i -log(e^{s(q_i,d_i)/t} / Z_i)

Sources: Q-Anchor (arXiv 2602.14492) and its released modeling.py
(contrastive_loss_with_masked_negatives: qd, qq, dq, with dd commented out);
GTE (arXiv 2308.03281) sec. 3.3 for the four kinds.

Run with the project environment:  .venv/bin/python tools/reference/info_nce_reference.py
Writes tests/data/train/embed_info_nce_golden.json.
"""
import json
import math
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
# Query 2 nearly repeats query 5: a query-query (and, through d_5 ~ q_5,
# document-query) false negative for the mask to find.
anchors[2] = anchors[5] + 0.01 * torch.randn(D)

KINDS = ["query_document", "query_query", "document_query", "document_document"]


def info_nce(a, p, temperature, margin, normalize, kinds):
    if normalize:
        a = F.normalize(a, dim=1)
        p = F.normalize(p, dim=1)
    n = a.shape[0]

    def s(x, y):
        return (x * y).sum()

    losses = []
    masked = 0
    for i in range(n):
        pos = s(a[i], p[i])
        terms = [pos / temperature]
        for j in range(n):
            if j == i:
                continue
            candidates = {
                "query_document": s(a[i], p[j]),
                "query_query": s(a[i], a[j]),
                "document_query": s(p[i], a[j]),
                "document_document": s(p[i], p[j]),
            }
            for kind in KINDS:
                if not kinds[kind]:
                    continue
                value = candidates[kind]
                if margin >= 0 and value.item() > pos.item() + margin:
                    masked += 1
                    continue
                terms.append(value / temperature)
        losses.append(torch.logsumexp(torch.stack(terms), 0) - pos / temperature)
    return torch.stack(losses).mean(), masked


def kinds(*on):
    return {k: k in on for k in KINDS}


QD = kinds("query_document")
PUBLISHED = kinds("query_document", "query_query", "document_query")
ALL = kinds(*KINDS)
settings = [
    # The classic InfoNCE (query-document only), as before the other kinds.
    (0.07, 0.1, True, QD), (0.07, -1.0, True, QD), (0.5, 0.3, False, QD),
    # Q-Anchor's recipe, with and without the mask, and unnormalised.
    (0.07, 0.1, True, PUBLISHED), (0.07, -1.0, True, PUBLISHED), (0.5, 0.3, False, PUBLISHED),
    # Each other kind alone (with the positive), so that each term is pinned on its own.
    (0.07, 0.1, True, kinds("query_query")), (0.07, 0.1, True, kinds("document_query")),
    (0.07, 0.1, True, kinds("document_document")),
    # GTE's four kinds.
    (0.07, 0.1, True, ALL),
]

cases = []
for temperature, margin, normalize, on in settings:
    a = anchors.clone().requires_grad_(True)
    p = positives.clone().requires_grad_(True)
    loss, masked = info_nce(a, p, temperature, margin, normalize, on)
    loss.backward()
    assert math.isfinite(loss.item())
    cases.append({
        "temperature": temperature, "margin": margin, "normalize": normalize, "negatives": on,
        "loss": loss.item(), "masked": masked,
        "grad_anchors": a.grad.reshape(-1).tolist(), "grad_positives": p.grad.reshape(-1).tolist(),
    })

out = {"B": B, "D": D, "anchors": anchors.reshape(-1).tolist(), "positives": positives.reshape(-1).tolist(),
       "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "train", "embed_info_nce_golden.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
for c in cases:
    print(" ", [k for k in KINDS if c["negatives"][k]], c["temperature"], c["margin"], c["normalize"],
          "loss %.6f masked %d" % (c["loss"], c["masked"]))
