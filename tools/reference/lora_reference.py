"""A LoRA adapter saved by peft, and the logits peft computes with it.

On transformers' Qwen2ForCausalLM loaded from tests/data/model/qwen2 (fp32,
eager attention), peft's get_peft_model with LoraConfig(r=4, lora_alpha=8,
target_modules q_proj/v_proj/o_proj/up_proj); peft initialises A
(kaiming-uniform) and B (zeros), then B is drawn N(0, 0.1) so that the
adapter changes the output. Writes

  tests/data/model/qwen2-peft-lora/   peft's save_pretrained folder (adapter_config.json,
                                      adapter_model.safetensors) and golden.safetensors:
                                      input_ids [2, 9] int64, logits [2, 9, V] fp32 (base + adapter),
                                      base_logits [2, 9, V] fp32 (adapter disabled)

tests/model/lora_peer_parity_test.cpp loads the folder with Lora::load and
compares UPM's logits with these.
Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/lora_reference.py
"""
import json
import os
import shutil

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "tests", "data", "model", "qwen2")
ADAPTER = os.path.join(ROOT, "tests", "data", "model", "qwen2-peft-lora")
GOLDEN = os.path.join(ADAPTER, "golden.safetensors")


def main():
    torch.set_num_threads(1)
    torch.manual_seed(24)
    base = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32, attn_implementation="eager")
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "o_proj", "up_proj"],
                        task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    gen = torch.Generator().manual_seed(24)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    model.eval()
    ids = torch.randint(3, base.config.vocab_size, (2, 9), generator=gen)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float().contiguous()
        with model.disable_adapter():
            base_logits = model(input_ids=ids).logits.float().contiguous()
    print(f"max |adapted - base| = {(logits - base_logits).abs().max().item():.4f}")

    model.peft_config["default"].base_model_name_or_path = "tests/data/model/qwen2"
    shutil.rmtree(ADAPTER, ignore_errors=True)
    model.save_pretrained(ADAPTER, safe_serialization=True)
    readme = os.path.join(ADAPTER, "README.md")  # peft's model-card template: not part of the adapter
    if os.path.exists(readme):
        os.remove(readme)
    # peft keeps target_modules as a set: sorted, the file is the same on every run.
    path = os.path.join(ADAPTER, "adapter_config.json")
    with open(path) as f:
        saved = json.load(f)
    saved["target_modules"] = sorted(saved["target_modules"])
    with open(path, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
        f.write("\n")
    save_file({"input_ids": ids, "logits": logits, "base_logits": base_logits}, GOLDEN)
    print("wrote", ADAPTER, "and", GOLDEN)


if __name__ == "__main__":
    main()
