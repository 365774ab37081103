"""Hugging Face transformers as the reference for UPM's SFT step.

Three optimizer steps of supervised fine-tuning of transformers'
Qwen2ForCausalLM loaded from tests/data/model/qwen2 (fp32, eager attention;
it has q/k/v biases, so both AdamW parameter groups are exercised), on one
fixed batch, with the loss of src/train/sft_step.cpp:

  loss  = sum over the tokens t >= 1 marked as targets of -log p(ids[t] | ids[:t]),
          divided by the number of such tokens in the whole batch (prompt tokens
          are masked; one mean over the batch, not a mean of row means)
  AdamW = torch.optim.AdamW with two groups: weight decay on every tensor but
          norms and biases; HF cosine schedule with warmup (as a multiplier);
          torch.nn.utils.clip_grad_norm_ over all parameters.

Writes tests/data/train/sft_step_golden.safetensors:
  input_ids [2, 10] int64, targets [2, 10] int64 (1 = trained token),
  losses [3] f64, grad_norms [3] f64, lrs [3] f64,
  "grad.NAME" for a few parameters: the first step's gradient before clipping,
  "weight.NAME" for every parameter after the three steps (fp32).
Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/sft_step_reference.py
"""
import json
import math
import os

import torch
from safetensors.torch import save_file
from transformers import Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "tests", "data", "model", "qwen2")
OUT = os.path.join(ROOT, "tests", "data", "train", "sft_step_golden.safetensors")

LR, BETAS, EPS, WEIGHT_DECAY, MAX_NORM = 1e-3, (0.9, 0.95), 1e-8, 0.1, 0.5
WARMUP, TOTAL, STEPS = 1, 10, 3
GRADIENTS = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
             "model.layers.0.self_attn.v_proj.bias", "model.layers.1.mlp.down_proj.weight",
             "model.layers.1.post_attention_layernorm.weight", "model.norm.weight", "lm_head.weight"]


def lr_multiplier(step):
    """transformers.get_cosine_schedule_with_warmup."""
    if step < WARMUP:
        return step / max(1, WARMUP)
    progress = (step - WARMUP) / max(1, TOTAL - WARMUP)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def decays(name):
    return not (name.endswith("norm.weight") or name.endswith(".bias"))


def sft_loss(model, ids, targets):
    """UPM's: position t predicts token t+1; the mean over target tokens of the batch."""
    logits = model(input_ids=ids).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    nll = -logp.gather(-1, ids[:, 1:, None])[..., 0]
    mask = targets[:, 1:].bool()
    loss = nll[mask].sum() / mask.sum()
    # The same number as transformers' own causal-LM loss with prompt labels at -100.
    labels = torch.where(targets.bool(), ids, torch.full_like(ids, -100))
    labels[:, 0] = -100
    hf = model(input_ids=ids, labels=labels).loss
    assert abs(hf.item() - loss.item()) < 1e-6, (hf.item(), loss.item())
    return loss


def train(dtype, ids, targets):
    """STEPS optimizer steps in `dtype`: (losses, grad norms, lrs, first-step gradients, final weights)."""
    model = Qwen2ForCausalLM.from_pretrained(MODEL, dtype=dtype, attn_implementation="eager")
    model.train()  # dropout is 0 in the config: train mode changes nothing but is what SFT runs
    w = dict(model.named_parameters())
    groups = [{"params": [w[k] for k in sorted(w) if decays(k)], "weight_decay": WEIGHT_DECAY},
              {"params": [w[k] for k in sorted(w) if not decays(k)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    losses, norms, lrs, grads = [], [], [], {}
    for step in range(STEPS):
        lr = LR * lr_multiplier(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = sft_loss(model, ids, targets)
        loss.backward()
        if step == 0:
            grads = {k: w[k].grad.detach().clone() for k in GRADIENTS}
        norm = torch.nn.utils.clip_grad_norm_(list(w.values()), MAX_NORM)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
        lrs.append(lr)
    return losses, norms, lrs, grads, {k: v.detach() for k, v in w.items()}


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(6)
    with open(os.path.join(MODEL, "config.json")) as f:
        vocab_size = json.load(f)["vocab_size"]
    ids = torch.randint(3, vocab_size, (2, 10), generator=gen)
    targets = torch.zeros(2, 10, dtype=torch.int64)
    targets[0, 4:] = 1  # prompt of 4 tokens
    targets[1, 6:] = 1  # prompt of 6 tokens

    losses, norms, lrs, grads, weights = train(torch.float32, ids, targets)
    for step in range(STEPS):
        print(f"step {step}: loss {losses[step]:.6f} grad_norm {norms[step]:.6f} lr {lrs[step]:.3e}")
    tensors = {"input_ids": ids, "targets": targets, "losses": torch.tensor(losses, dtype=torch.float64),
               "grad_norms": torch.tensor(norms, dtype=torch.float64), "lrs": torch.tensor(lrs, dtype=torch.float64)}
    tensors.update({"grad." + k: g for k, g in grads.items()})
    # Elements whose value after the steps rounding decides: AdamW divides by
    # sqrt(v), so an element whose gradient is near zero moves by up to lr
    # whatever its gradient's rounding noise. Found by repeating the steps in
    # fp64: where fp32 and fp64 differ by more than 1e-6 the element is marked
    # in "unstable.NAME" (uint8, same shape) and the C++ test holds it to the
    # step sizes instead of 1e-5.
    weights64 = train(torch.float64, ids.clone(), targets)[4]
    for k, v in weights.items():
        tensors["weight." + k] = v.float().contiguous()
        unstable = (v.double() - weights64[k]).abs() > 1e-6
        if unstable.any():
            tensors["unstable." + k] = unstable.to(torch.uint8).contiguous()
            print(f"{k}: {int(unstable.sum())} of {v.numel()} elements unstable "
                  f"(fp32 vs fp64 reference up to {(v.double() - weights64[k]).abs().max().item():.3g})")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(tensors, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
