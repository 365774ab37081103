"""Logits of a model folder (and optionally a LoRA adapter) as Hugging Face computes them.

  hf_logits.py MODEL_DIR --ids 1,2,3;4,5,6 --output logits.safetensors [--adapter ADAPTER_DIR]

Loads MODEL_DIR with transformers' AutoModelForCausalLM (fp32, eager
attention) and, with --adapter, the adapter with peft's
PeftModel.from_pretrained; runs the rows of --ids (equal lengths, ';'
between rows) and writes {"logits": [B, T, V] fp32} to --output. Loading is
strict: a tensor transformers or peft did not use, or a parameter it did not
find, is an error (exit 2), so that a folder that only loads with warnings
does not pass. The C++ parity tests (tests/model/hf_peer_parity_test.cpp,
tests/model/lora_peer_parity_test.cpp) run it on folders UPM wrote and
compare with UPM's own logits.
"""
import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402


def fail(message):
    print(f"hf_logits.py: {message}", file=sys.stderr)
    sys.exit(2)


def parse_ids(text):
    rows = [[int(t) for t in row.split(",")] for row in text.split(";") if row]
    if not rows or len({len(r) for r in rows}) != 1:
        fail(f"--ids: expected rows of equal length, got {text!r}")
    return torch.tensor(rows, dtype=torch.long)


def load_model(folder):
    model, info = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                       output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        fail(f"{folder}: transformers did not load it cleanly: {problems}")
    return model


def load_adapter(model, folder):
    from peft import PeftModel, get_peft_model_state_dict

    model = PeftModel.from_pretrained(model, folder)
    saved = load_file(os.path.join(folder, "adapter_model.safetensors"))
    loaded = get_peft_model_state_dict(model)
    if set(saved) != set(loaded):
        fail(f"{folder}: peft's adapter tensors differ from the file's: "
             f"only in the file {sorted(set(saved) - set(loaded))}, only in peft {sorted(set(loaded) - set(saved))}")
    for name, tensor in saved.items():
        if not torch.equal(loaded[name].to(tensor.dtype), tensor):
            fail(f"{folder}: {name} was not loaded as written")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--ids", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--adapter")
    args = parser.parse_args()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(1)
    ids = parse_ids(args.ids)
    model = load_model(args.model)
    if args.adapter:
        model = load_adapter(model, args.adapter)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float().contiguous()
    save_file({"logits": logits}, args.output)
    print(f"hf_logits.py: {args.model}{' + ' + args.adapter if args.adapter else ''}: logits {list(logits.shape)}")


if __name__ == "__main__":
    main()
