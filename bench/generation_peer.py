#!/usr/bin/env python3
"""The generation benchmark's peer: the same loops as upm-bench-generation in
PyTorch eager (a plain Llama-style decoder with a KV cache grown by
torch.cat, as HF transformers' DynamicCache does), random weights of the same
config. Prints one JSON object.

usage: generation_peer.py CONFIG_JSON  (keys: see bench/generation_bench.cpp)
"""
import ctypes
import json
import math
import sys
import time

import torch


class Model(torch.nn.Module):
    def __init__(self, c, dtype):
        super().__init__()
        self.c = c
        H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        self.nh, self.nkv, self.hd = c["num_attention_heads"], c["num_key_value_heads"], H // c["num_attention_heads"]

        def w(*shape):
            return torch.nn.Parameter(torch.randn(*shape, dtype=torch.float32).mul_(0.02).to(dtype), requires_grad=False)

        self.embed = w(V, H)
        self.layers = []
        for _ in range(c["num_hidden_layers"]):
            self.layers.append(dict(
                q=w(self.nh * self.hd, H), k=w(self.nkv * self.hd, H), v=w(self.nkv * self.hd, H),
                o=w(H, self.nh * self.hd), gate=w(I, H), up=w(I, H), down=w(H, I),
                n1=torch.ones(H, dtype=dtype), n2=torch.ones(H, dtype=dtype)))
        self.norm = torch.ones(H, dtype=dtype)
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.inv_freq = inv
        self.eps = c["rms_norm_eps"]

    def rms(self, x, w):
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    @staticmethod
    def rot(x, cos, sin):
        h = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., h:], x[..., :h]), -1) * sin

    def forward(self, ids, cache, start):
        B, T = ids.shape
        x = torch.nn.functional.embedding(ids, self.embed)
        pos = torch.arange(start, start + T).float()
        f = pos[:, None] * self.inv_freq[None]
        emb = torch.cat((f, f), -1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        S = start + T
        mask = torch.full((T, S), float("-inf")).triu(start + 1)
        for i, L in enumerate(self.layers):
            h = self.rms(x, L["n1"])
            q = torch.nn.functional.linear(h, L["q"]).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = torch.nn.functional.linear(h, L["k"]).view(B, T, self.nkv, self.hd).transpose(1, 2)
            v = torch.nn.functional.linear(h, L["v"]).view(B, T, self.nkv, self.hd).transpose(1, 2)
            q, k = self.rot(q, cos, sin), self.rot(k, cos, sin)
            if cache[i] is not None:
                k = torch.cat((cache[i][0], k), 2)
                v = torch.cat((cache[i][1], v), 2)
            cache[i] = (k, v)
            rep = self.nh // self.nkv
            kr, vr = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            s = (q @ kr.transpose(2, 3)).float() / math.sqrt(self.hd) + mask
            a = (s.softmax(-1).to(x.dtype) @ vr).transpose(1, 2).reshape(B, T, -1)
            x = x + torch.nn.functional.linear(a, L["o"])
            h = self.rms(x, L["n2"])
            m = torch.nn.functional.silu(torch.nn.functional.linear(h, L["gate"])) * torch.nn.functional.linear(h, L["up"])
            x = x + torch.nn.functional.linear(m, L["down"])
        x = self.rms(x[:, -1:], self.norm)
        return torch.nn.functional.linear(x, self.embed)[:, -1].float()


def generate(model, prompt_ids, new_tokens):
    """Greedy: prefill then new_tokens - 1 decode steps."""
    cache = [None] * len(model.layers)
    logits = model(prompt_ids, cache, 0)
    pos = prompt_ids.shape[1]
    for _ in range(new_tokens - 1):
        nxt = logits.argmax(-1, keepdim=True)
        logits = model(nxt, cache, pos)
        pos += 1


def timed(fn, reps):
    fn()
    best = []
    clock = time.process_time if CLOCK == "process_cpu" else time.perf_counter
    for _ in range(reps):
        t = clock()
        fn()
        best.append(clock() - t)
    best.sort()
    return best[len(best) // 2]


CLOCK = "wall"


def match_openblas_threads(n):
    """OpenBLAS's own thread pool ignores torch.set_num_threads: give it the
    same count as the C++ side does (upm::set_cpu_threads). Returns its
    pool size, 0 without OpenBLAS."""
    try:
        blas = ctypes.CDLL("libopenblas.so.0")
        blas.openblas_set_num_threads(n)
        return blas.openblas_get_num_threads()
    except (OSError, AttributeError):
        return 0


def main():
    global CLOCK
    cfg = json.loads(sys.argv[1])
    CLOCK = cfg.get("clock", "wall")
    torch.manual_seed(0)
    torch.set_num_threads(cfg.get("threads", torch.get_num_threads()))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "blas_threads": match_openblas_threads(torch.get_num_threads())}
    for dtype_name in cfg["dtypes"]:
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype_name]
        with torch.inference_mode():
            model = Model(cfg["model"], dtype)
            V = cfg["model"]["vocab_size"]
            T, D = cfg["prefill_tokens"], cfg["decode_tokens"]
            prompt = torch.randint(0, V, (1, T))
            r = {}
            s = timed(lambda: model(prompt, [None] * len(model.layers), 0), cfg["reps"])
            r["prefill_tokens_per_s"] = T / s
            short = torch.randint(0, V, (1, cfg["decode_prompt"]))
            s_pre = timed(lambda: model(short, [None] * len(model.layers), 0), cfg["reps"])
            s = timed(lambda: generate(model, short, D), cfg["reps"])
            r["decode_b1_tokens_per_s"] = (D - 1) / (s - s_pre)
            B = cfg["batch"]
            batch = torch.randint(0, V, (B, cfg["decode_prompt"]))
            s_pre = timed(lambda: model(batch, [None] * len(model.layers), 0), cfg["reps"])
            s = timed(lambda: generate(model, batch, D), cfg["reps"])
            r["decode_b%d_tokens_per_s" % B] = B * (D - 1) / (s - s_pre)
            out[dtype_name] = r
    print(json.dumps(out))


if __name__ == "__main__":
    main()
