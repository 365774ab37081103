#!/usr/bin/env python3
"""How much topic / style signal a linear probe can get from the raw synthetic
histories with NO model: hand-made counts per topic (rating - 3, clicks,
survey chosen minus rejected, "I really enjoy X" / "I can't stand X") and per
style dimension (shorter / "Certainly" answer chosen, style statements). The
probe protocol follows run_demo (tests/train/embed_synth_test.cpp): the last
200 users, 30% held out, 3 seeded splits, standardised features, L2 0.01
logistic regression. A reference for docs/embed.md, not a test golden.

  build/bin/upm-data synth --users 400 --seed 3 --items 60 --min-events 14 --max-events 20 --output W
  /usr/bin/python3 tools/reference/embed_signal_ceiling.py W
(the same users as run_demo's world of that seed; --category-first only changes
the item text, not the draws.)
"""
import json, sys, random, torch
w = sys.argv[1]
items = {json.loads(l)["item"]: json.loads(l)["topics"] for l in open(f"{w}/items.jsonl")}
logs = [json.loads(l) for l in open(f"{w}/log.jsonl")]
truth = [json.loads(l) for l in open(f"{w}/truth.jsonl")]
T = ["science fiction","horror","romance","comedy","documentary","fantasy","thriller","history","cooking","sports"]
def feats(log):
    f = [0.0]*(3*len(T)) + [0.0]*4
    for e in log["events"]:
        if e["kind"] == "rating":
            for t in items[e["item"]]: f[T.index(t)] += e["value"] - 3
        elif e["kind"] == "click":
            for t in items[e["item"]]: f[T.index(t)] += 1
        elif e["source"] == "survey":
            for t in items[e["chosen"]]: f[T.index(t)] += 1
            for t in items[e["rejected"]]: f[T.index(t)] -= 1
        elif e["source"] == "assistant":
            c, r = e["chosen"], e["rejected"]
            f[-4] += (len(c) < len(r)) - (len(c) > len(r)); f[-3] += c.startswith("Certainly") - r.startswith("Certainly")
        elif e["kind"] == "text":
            for i, t in enumerate(T):
                if e["text"] == f"I really enjoy {t}.": f[len(T)+i] += 1
                if e["text"] == f"I can't stand {t}.": f[2*len(T)+i] += 1
            f[-2] += ("short" in e["text"]) - ("thorough" in e["text"]); f[-1] += ("formal replies" in e["text"]) - ("casual" in e["text"])
    return f
X = torch.tensor([feats(l) for l in logs[200:]], dtype=torch.float64)
def auc(s, y):
    pos = s[y == 1]; neg = s[y == 0]
    return ((pos[:, None] > neg[None]).double() + 0.5 * (pos[:, None] == neg[None]).double()).mean().item()
def probe(y, seed):
    idx = list(range(len(y))); random.Random(seed).shuffle(idx)
    te, tr = idx[:60], idx[60:]
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-9
    Z = (X - mu) / sd
    wgt = torch.zeros(Z.shape[1], dtype=torch.float64, requires_grad=True); b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([wgt, b], max_iter=200)
    def closure():
        opt.zero_grad(); l = torch.nn.functional.binary_cross_entropy_with_logits(Z[tr] @ wgt + b, y[tr]) + 0.01 * 0.5 * (wgt ** 2).sum(); l.backward(); return l
    opt.step(closure)
    return auc((Z[te] @ wgt + b).detach(), y[te])
tr = truth[200:]
topics = [sum(probe(torch.tensor([float(t in u["likes"]) for u in tr], dtype=torch.float64), s) for s in range(3)) / 3 for t in T]
style = [sum(probe(torch.tensor([float(f(u)) for u in tr], dtype=torch.float64), s) for s in range(3)) / 3
         for f in (lambda u: u["style"]["verbosity"] == "concise", lambda u: u["style"]["tone"] == "formal")]
print(f"topics {sum(topics)/len(topics):.3f} style {sum(style)/len(style):.3f}")
